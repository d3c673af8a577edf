-- study.lua - the HER2 study's workflow on real, public data, as a study
-- spec: two breast-cancer cohorts that ship with R's survival package
-- (Therneau; exported to tests/fixtures/data/ by tests/oracle/export_data.R,
-- see docs/data-sources.md). Develop on the Rotterdam tumour bank, validate
-- externally on the German Breast Cancer Study Group trial (GBSG).
--
--   sylva study examples/breast-recurrence/study.lua     -> out/breast-recurrence/
--
-- The question: recurrence or death within 5 years of surgery, from age,
-- menopause, tumour size, grade, positive nodes, receptors and hormonal
-- therapy. The choices live in the encodings: node-positive Rotterdam
-- patients only (a row filter), recurrence-free survival derived from
-- Rotterdam's recurrence and death columns, and the 5-year label (missing
-- for patients censored before 5 years: they are left out of the
-- classification and counted). README.md explains each.
return {
  title = "Recurrence within 5 years: Rotterdam -> GBSG",
  subtitle = "Random forest, SHAP and recurrence-free survival on two public breast-cancer cohorts",
  seed = 1978,
  id = "pid",
  development = {name = "Rotterdam", data = "../../tests/fixtures/data/rotterdam.csv",
                 encoding = "encodings/rotterdam.lua"},
  external = {{name = "GBSG", data = "../../tests/fixtures/data/gbsg.csv", encoding = "encodings/gbsg.lua"}},
  tasks = {
    {id = "recur5", title = "Recurrence or death within 5 years", label = "5-year recurrence",
     outcome = "recur5", positive = {"yes"}, negative = {"no"}},
    -- recurrence-free survival modelled directly: a random survival forest of
    -- rfs_years and rfs_event (survival below), judged at 1, 3 and 5 years
    {id = "rfs", title = "Recurrence-free survival (random survival forest)", label = "RFS risk",
     kind = "survival", horizons = {1, 3, 5}},
  },
  -- every GBSG patient (labelled or not) by model risk group
  survival = {time = "rfs_years", event = "rfs_event", unit = "years", xlab = "Years since surgery",
              label = "Recurrence-free survival", abbrev = "RFS", breaks = 1, xmax = 7,
              sets = {"external"}, population = "all", groups = {"High risk", "Low risk"}},
  model = {trees = 300, grid = {mtry = {2, 3, 4}, min_leaf = {5, 10, 20}}, folds = 5},
  selection = false,                             -- all eight features; SHAP shows their weight
  quick = {trees = 100, grid = {mtry = {2, 3}, min_leaf = {5, 20}}},
  methods = "Endpoint: recurrence-free survival (recurrence or death), as GBSG records it; for Rotterdam, the recurrence time if there was a recurrence, else the death time, not counting deaths after the last recurrence follow-up (the conservative definition of R's ?rotterdam). Label: 1 if the event occurred within 5 years, 0 if the patient was followed beyond 5 years without it; patients censored before 5 years have no label and are left out of the classification, not of the survival analysis of GBSG. Development on node-positive Rotterdam patients only, as GBSG enrolled only node-positive patients (Royston & Altman 2013).",
}
