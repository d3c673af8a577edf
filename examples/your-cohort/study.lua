-- study.lua - a registry export of the Rotterdam tumour bank (R survival's
-- rotterdam, re-exported with registry-style columns by
-- tests/oracle/export_registry.R; docs/data-sources.md) as a study:
-- develop on the patients operated on in 1978-1988, validate on those of
-- 1989-1993. docs/your-cohort.md builds it step by step.
--
--   sylva study examples/your-cohort/study.lua          -> out/your-cohort/
return {
  title = "Recurrence or death within 5 years of breast-cancer surgery",
  subtitle = "Rotterdam tumour bank: development 1978-1988, temporal validation 1989-1993",
  seed = 1988,
  id = "Patient ID",
  development = {name = "1978-1988", data = "data/rotterdam_registry.csv", encoding = "encodings/early.lua"},
  external = {{name = "1989-1993", data = "data/rotterdam_registry.csv", encoding = "encodings/late.lua"}},
  tasks = {
    {id = "event5", title = "Recurrence or death within 5 years", label = "5-year event",
     outcome = "event5", positive = {"yes"}},
    -- the registry never recorded HER2: this task is skipped, and says so
    {id = "her2", title = "HER2-positive vs HER2-negative", label = "HER2-positive",
     outcome = "her2", positive = {"positive"}, negative = {"negative"}},
  },
  -- every patient of the later period with a follow-up, labelled or not
  survival = {time = "efs_years", event = "efs_event", unit = "years", xlab = "Years since surgery",
              label = "Event-free survival", abbrev = "EFS", breaks = 2, xmax = 10,
              sets = {"external"}, population = "all"},
  model = {trees = 300, grid = {mtry = {2, 3, 4}, min_leaf = {5, 10, 20}}},
  selection = {rule = "1se"},                    -- the smallest model within one SE of the best CV AUC
  quick = {trees = 60, grid = {mtry = {3}, min_leaf = {10}}},
  methods = "Event: recurrence or death, whichever came first (the recurrence time if there was a recurrence, else the time to death or last contact). Label: 1 if the event occurred within 5 years of surgery, 0 if the patient was followed beyond 5 years without it; patients censored before 5 years, or with the recurrence field blank, have no label and are left out of the classification.",
}
