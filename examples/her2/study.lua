-- study.lua - the HER2 study of Chen et al. (Curr. Oncol. 2026, 33:53) as a
-- study spec: MRI features -> random forest -> SHAP -> HER2 status, and the
-- model score -> disease-free survival. Centre 1 is split 7:3 into training
-- and internal test sets, centre 2 is the external test set.
--
--   sylva study examples/her2/study.lua            (or `make demo`)
--
-- Everything goes to out/her2/ (or --out DIR): report.html, report.md,
-- report.json, every table as CSV, every figure as SVG, and
-- tables/<task>_predictions.csv. docs/study.md lists every field and its
-- default; docs/tutorial.md walks through the study.
--
-- Internal validation of each task's whole pipeline (imputation, grid,
-- SHAP selection, final forest, all redone per replicate; Harrell's
-- optimism bootstrap, instability and selection-frequency figures, and a
-- TRIPOD+AI checklist): `sylva study examples/her2/study.lua --bootstrap 200`.
-- It is left out of `make demo`, which must stay under 20 s: one replicate
-- costs about as much CPU as the task itself (about 2 CPU s per task here;
-- the replicates run in --threads worker processes; docs/validation.md).
return {
  title = "MRI features and HER2 expression in breast cancer",
  subtitle = "Random forest, SHAP and disease-free survival on the bundled two-centre cohort",
  seed = 2026,                                   -- every random step derives from it
  id = "patient_id",                             -- the column naming patients (centre 1)

  development = {name = "Centre 1", data = "data/center1.csv", encoding = "encodings/center1.lua"},
  external = {
    {name = "Centre 2", data = "data/center2.csv", encoding = "encodings/center2.lua", id = "ID"},
  },

  -- outcome: an outcome of the encodings; levels as the encodings name them
  tasks = {
    {id = "task1", title = "Task 1: HER2-positive vs HER2-negative", label = "HER2-positive",
     outcome = "her2", positive = {"positive"}, negative = {"low", "zero"}},
    {id = "task2", title = "Task 2: HER2-low vs HER2-zero (HER2-negative patients)", label = "HER2-low",
     outcome = "her2", positive = {"low"}, negative = {"zero"}},
    -- one forest of three classes (docs/study.md, "Multiclass tasks")
    {id = "task3", title = "Task 3: HER2-zero vs HER2-low vs HER2-positive (one forest)", label = "HER2 class",
     kind = "multiclass", outcome = "her2", classes = {"zero", "low", "positive"}},
    -- disease-free survival modelled directly: a random survival forest of
    -- survival.time and survival.event below (docs/study.md, "Survival tasks")
    {id = "task4", title = "Task 4: disease-free survival (random survival forest)", label = "DFS risk",
     kind = "survival", horizons = {12, 24, 36, 48}, horizon = 36},
  },

  -- survival by model score (every patient of a task, high vs low score)
  survival = {time = "dfs_months", event = "dfs_event", unit = "months",
              label = "Disease-free survival", abbrev = "DFS", breaks = 12},

  split = {train = 0.7},
  model = {trees = 500, grid = {mtry = {2, 4, 6}, min_leaf = {5, 10, 20}}, folds = 5},
  selection = {repeats = 3, max_features = 12, rule = "tol", tol = 0.005},
  quick = {trees = 100, grid = {mtry = {2, 4}, min_leaf = {5, 10}}},   -- sylva study --quick
  table1 = {digits = {adc = 2}},
}
