-- study.lua - the HER2 study of Chen et al. (Curr. Oncol. 2026, 33:53) as one
-- sylva script: MRI features -> random forest -> SHAP -> HER2 status, and
-- the model score -> disease-free survival. Two centres: centre 1 is split
-- 7:3 into training and internal test sets, centre 2 is the external test.
--
--   sylva examples/her2/study.lua            (or `make demo`)
--
-- Everything goes to out/her2/: report.html, report.md, report.json, every
-- table as CSV, every figure as SVG. docs/tutorial.md walks through it.
-- Environment: SYLVA_OUT (output directory), SYLVA_THREADS (default all
-- cores), SYLVA_QUICK=1 (fewer trees and a smaller grid, for tests).
local sv = require "sylva"

local HERE = (arg and arg[0] or "examples/her2/study.lua"):match("^(.*)/[^/]*$") or "."
local QUICK = os.getenv("SYLVA_QUICK") == "1"
local CONFIG = {
  seed = 2026,                                   -- every random step derives from it
  out = os.getenv("SYLVA_OUT") or "out/her2",
  threads = tonumber(os.getenv("SYLVA_THREADS") or "0"),
  trees = QUICK and 100 or 500,
  grid = QUICK and {mtry = {2, 4}, min_leaf = {5, 10}}
               or {mtry = {2, 4, 6}, min_leaf = {5, 10, 20}},
  folds = 5,
  train_fraction = 0.7,
}
local TASKS = {
  {id = "task1", title = "Task 1: HER2-positive vs HER2-negative",
   keep = function(her2) return her2 ~= false end, positive = "positive",
   label = "HER2-positive"},
  {id = "task2", title = "Task 2: HER2-low vs HER2-zero (HER2-negative patients)",
   keep = function(her2) return her2 == "low" or her2 == "zero" end, positive = "low",
   label = "HER2-low"},
}

-- ---- progress: one line per step, with its time -------------------------
local t_start = sv.clock()
local function step(what)
  io.stderr:write(("[%5.1f s] %s\n"):format(sv.clock() - t_start, what))
end

-- ---- 1. Load and encode each centre -------------------------------------
step("reading and encoding both centres")
local function load_centre(name)
  local enc = sv.encode.load(HERE .. "/encodings/" .. name .. ".lua")
  return sv.encode.apply(enc, sv.read_csv(HERE .. "/data/" .. name .. ".csv")), enc
end
local centre1 = load_centre("center1")
-- external test centres: centre 2, plus any named on the command line
-- (`sylva examples/her2/study.lua center3` reads encodings/center3.lua and
-- data/center3.csv; docs/new-centre.md)
local EXTERNAL = {"center2", table.unpack(arg or {})}
local externals = {}
for i, name in ipairs(EXTERNAL) do
  externals[i] = {name = name, d = load_centre(name)}
  externals[i].label = externals[i].d.centre
  -- the models take centre 1's features: same names, same order
  if table.concat(externals[i].d.names, ",") ~= table.concat(centre1.names, ",") then
    error(("%s: encodings/%s.lua must define the features of center1.lua, in the same order:\n  %s\ngot\n  %s")
      :format(name, name, table.concat(centre1.names, ", "), table.concat(externals[i].d.names, ", ")), 0)
  end
end

local report = sv.report.new({
  title = "MRI features and HER2 expression in breast cancer",
  subtitle = "Random forest, SHAP and disease-free survival on the bundled two-centre cohort",
})
for _, name in ipairs({"center1", table.unpack(EXTERNAL)}) do
  report:input(HERE .. "/data/" .. name .. ".csv", name .. " data")
  report:input(HERE .. "/encodings/" .. name .. ".lua", name .. " encoding")
end
report:section("Methods")
report:text(([[Centre 1 (n = %d) was split 7:3, stratified by the outcome, into a training and an internal test set; centre 2 (n = %d) is the external test set. Missing values were imputed with statistics of the training set only (median for age, size and ADC, the most frequent value otherwise). Random forests (%d trees) were tuned by grid search (%s) with %d-fold cross-validated AUC on the training set. Features were ranked by mean |SHAP| (exact TreeSHAP) of the all-feature model on the training set and added in that order while the 3 x repeated %d-fold CV AUC improved by more than 0.005; the final model uses the selected features.

Training-set performance is out-of-bag (each patient scored only by trees that did not see them). The Youden cut-off of the training out-of-bag scores is applied unchanged to the test sets, for sensitivity, specificity and accuracy (exact 95%% CIs) and to split all patients of a task into high and low model score for the survival analysis (Kaplan-Meier, log-rank test, Cox model). AUC 95%% CIs are DeLong's.]]):format(
  centre1.n, externals[1].d.n, CONFIG.trees, "mtry x min_leaf", CONFIG.folds, CONFIG.folds))
report:seed("study", CONFIG.seed)
report:option("trees", CONFIG.trees)
report:option("grid", CONFIG.grid)
report:option("folds", CONFIG.folds)

-- ---- helpers that every task uses ---------------------------------------
local function rows_where(values, pred)
  local idx = {}
  for i, v in ipairs(values) do if pred(v) then idx[#idx + 1] = i end end
  return idx
end

local function forest_opts(extra)
  local o = {trees = CONFIG.trees, seed = CONFIG.seed, threads = CONFIG.threads}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- display names of the encoded columns, from the encoding's labels
local LABELS = {}
for _, f in ipairs(centre1.enc.features) do
  for _, col in ipairs(f.outputs) do
    LABELS[col] = f.label and (#f.outputs > 1 and f.label .. ": " .. col:sub(#f.name + 2) or f.label) or col
  end
end

-- Table 1 of several sets: each encoded feature shown as the analyst knows
-- it (sv.encode.columns folds one-hot columns back into one categorical
-- variable and names ordinal levels and yes/no, with centre 1's level
-- names for every set), before imputation so missing values show
local function table1(sets)
  local cols, by, vars = {}, {}, nil
  for _, set in ipairs(sets) do
    local c, v = sv.encode.columns(set.raw, centre1.enc)
    vars = vars or v
    for i = 1, set.raw.n do
      by[#by + 1] = set.name
      for name, col in pairs(c) do
        cols[name] = cols[name] or {}
        cols[name][#by] = col[i]
      end
    end
  end
  local shown = {}
  for _, v in ipairs(vars) do
    if centre1.enc.by_name[v.name] then
      v.label = v.label or v.name
      if v.name == "adc" then v.digits = 2 end
      shown[#shown + 1] = v
    end
  end
  shown[#shown + 1] = {name = "her2", label = "HER2 status", type = "categorical",
                       levels = {"positive", "low", "zero"}}
  shown[#shown + 1] = {name = "dfs_event", label = "DFS event", type = "categorical", levels = {"no", "yes"}}
  local order = {}
  for k, set in ipairs(sets) do order[k] = set.name end
  return sv.table1(cols, {by = by, groups = order, vars = shown})
end

-- AUC with its 95% DeLong CI; sensitivity, specificity and accuracy (with
-- exact Clopper-Pearson CIs) at a fixed cut-off: score >= cut is positive
local function discrimination(set, y, score, cut)
  local a = sv.roc.auc(y, score, {ci = "delong"})
  local m = sv.metrics.at(y, score, cut)
  return {set = set, n = #y, positives = m.tp + m.fn, auc = a.auc, auc_lo = a.lo, auc_hi = a.hi,
          sensitivity = m.sens, sens_lo = m.sens_lo, sens_hi = m.sens_hi,
          specificity = m.spec, spec_lo = m.spec_lo, spec_hi = m.spec_hi,
          accuracy = m.accuracy, acc_lo = m.accuracy_lo, acc_hi = m.accuracy_hi}
end

-- ---- 2. One task, end to end --------------------------------------------
local summary = {}

local function run_task(task)
  report:section(task.title)

  -- the task's patients in a centre, and their 0/1 label
  local function task_rows(d)
    local sub = sv.encode.subset(d, rows_where(d.outcomes.her2, task.keep))
    return sub, sv.encode.indicator(sub.outcomes.her2, task.positive)
  end
  local c1, y1 = task_rows(centre1)

  -- centre 1 split 7:3 stratified; imputation fitted on training only and
  -- applied unchanged to every other set
  step(task.id .. ": 7:3 stratified split of centre 1, imputation from training")
  local train_idx, test_idx = sv.split.holdout(y1, {prop = CONFIG.train_fraction, seed = CONFIG.seed})
  local imputer = sv.encode.fit_imputer(sv.encode.subset(c1, train_idx))
  local function make_set(name, raw, y) return {name = name, raw = raw, d = imputer:apply(raw), y = y} end
  local sets = {
    make_set("training", sv.encode.subset(c1, train_idx), sv.split.take(y1, train_idx)),
    make_set("internal", sv.encode.subset(c1, test_idx), sv.split.take(y1, test_idx)),
  }
  for i, e in ipairs(externals) do
    local d, y = task_rows(e.d)
    sets[#sets + 1] = make_set(i == 1 and "external" or "external " .. e.label, d, y)
  end
  local train = sets[1]

  -- Table 1 of the sets
  step(task.id .. ": Table 1")
  report:table(table1(sets), {name = task.id .. "_table1",
    caption = "Baseline characteristics by set (before imputation)"})

  -- grid search of the forest's options, 5-fold CV AUC on training
  local n_grid = 1
  for _, v in pairs(CONFIG.grid) do n_grid = n_grid * #v end
  step(("%s: grid search, %d settings x %d-fold CV"):format(task.id, n_grid, CONFIG.folds))
  local tuned = sv.tune.grid(train.d.X, train.y, CONFIG.grid,
    {k = CONFIG.folds, seed = CONFIG.seed, forest = forest_opts(), progress = false})
  report:table(tuned.table, {name = task.id .. "_grid", caption = "Grid search: 5-fold CV AUC on training"})
  local best = tuned.best_options

  -- SHAP values of the all-feature model on training, ranking, forward
  -- selection along the ranking (keep adding while CV AUC improves)
  step(task.id .. ": all-feature model and its SHAP ranking")
  local ranking, _, _, full = sv.select.shap_rank(train.d.X, train.y, {forest = best, threads = CONFIG.threads})
  step(task.id .. ": forward selection along the SHAP ranking")
  local sel = sv.select.forward(train.d.X, train.y, {ranking = ranking, forest = best, k = CONFIG.folds,
    seed = CONFIG.seed, repeats = 3, max_features = 12, rule = "tol", tol = 0.005, stop_early = false, progress = false})
  report:table(sel.table, {name = task.id .. "_selection",
    caption = "Forward selection along the SHAP ranking: CV AUC as features are added"})
  local selected = sel.selected
  step(("%s: final model on %d feature%s: %s"):format(task.id, #selected,
    #selected == 1 and "" or "s", table.concat(selected, ", ")))
  local final_opts = forest_opts(best)
  if math.type(final_opts.mtry) == "integer" and final_opts.mtry > #selected then final_opts.mtry = #selected end
  local final = sv.forest.train(train.d.X:cols(selected), train.y, final_opts)

  -- discrimination: training scores are out-of-bag, hence honest; the
  -- Youden cut-off is fixed on them and carried unchanged to the test sets
  for _, set in ipairs(sets) do
    if set == train then
      set.score, set.score_full = final:oob_predict(), full:oob_predict()
    else
      set.score, set.score_full = final:predict(set.d.X:cols(selected)), full:predict(set.d.X)
    end
  end
  local cut = sv.roc.youden(train.y, train.score).threshold
  local disc, delong = {}, {}
  for _, set in ipairs(sets) do
    disc[#disc + 1] = discrimination(set.name, set.y, set.score, cut)
    local cmp = sv.roc.test(set.y, set.score_full, set.score)
    delong[#delong + 1] = {set = set.name, auc_all_features = cmp.auc1, auc_selected = cmp.auc2, z = cmp.z, p = cmp.p}
  end
  report:table(disc, {name = task.id .. "_discrimination",
    columns = {"set", "n", "positives", "auc", "auc_lo", "auc_hi", "sensitivity", "sens_lo", "sens_hi",
               "specificity", "spec_lo", "spec_hi", "accuracy", "acc_lo", "acc_hi"},
    caption = ("Discrimination of the selected model; sensitivity, specificity and accuracy at the " ..
               "Youden cut-off %.3f fixed on training (out-of-bag)"):format(cut)})
  report:table(delong, {name = task.id .. "_delong", columns = {"set", "auc_all_features", "auc_selected", "z", "p"},
    caption = "All-feature vs selected model, same patients: DeLong's test"})
  local curves, models = {}, {}
  for k, set in ipairs(sets) do
    curves[k] = {name = set.name == "training" and "training (out-of-bag)" or set.name, y = set.y, score = set.score}
    if k > 1 then models[#models + 1] = {name = set.name, y = set.y, p = set.score} end
  end
  report:figure(sv.plot.roc(curves, {title = task.label .. ": ROC curves"}),
                {name = task.id .. "_roc", caption = "ROC curves of the selected model, AUC with 95% DeLong CI"})
  report:figure(sv.plot.calibration(models, {title = task.label .. ": calibration"}),
                {name = task.id .. "_calibration", caption = "Calibration on the test sets"})
  local dca = sv.plot.decision_curve(models, {title = task.label .. ": decision curves"})
  report:figure(dca, {name = task.id .. "_decision", caption = "Decision curves on the test sets"})

  -- SHAP figures of the final model on training; one test patient's waterfall
  step(task.id .. ": SHAP figures")
  local Xs = train.d.X:cols(selected)
  local phi, base = sv.shap.tree(final, Xs, {threads = CONFIG.threads})
  report:figure(sv.plot.shap_beeswarm(phi, Xs, {labels = LABELS}),
                {name = task.id .. "_shap_beeswarm", caption = "SHAP summary of the final model (training)"})
  report:figure(sv.plot.shap_bar(phi, {labels = LABELS}),
                {name = task.id .. "_shap_bar", caption = "Mean |SHAP| of the final model (training)"})
  for k = 1, math.min(3, #selected) do
    report:figure(sv.plot.shap_dependence(phi, Xs, selected[k], {labels = LABELS}),
                  {name = task.id .. "_dependence_" .. selected[k], caption = "SHAP dependence: " .. LABELS[selected[k]]})
  end
  local internal = sets[2]
  local who = 1                                  -- the internal-test patient with the highest score
  for i = 2, #internal.y do if internal.score[i] > internal.score[who] then who = i end end
  local Xi = internal.d.X:cols(selected):rows({who})
  local phi_i, base_i = sv.shap.tree(final, Xi, {threads = CONFIG.threads})
  report:figure(sv.plot.waterfall(phi_i:row(1), base_i, Xi:row(1), {names = selected, labels = LABELS}),
    {name = task.id .. "_waterfall", caption = ("Internal-test patient %s (highest score): each feature's push " ..
      "from the average prediction to this patient's"):format(internal.d.rows[who])})

  -- survival: every patient of the task, high vs low score at the cut-off
  step(task.id .. ": disease-free survival by model score")
  local time, event, group, high = {}, {}, {}, {}
  for _, set in ipairs(sets) do
    for i = 1, #set.y do
      time[#time + 1] = set.d.outcomes.dfs_months[i]
      event[#event + 1] = set.d.outcomes.dfs_event[i]
      group[#group + 1] = set.score[i] >= cut and "High score" or "Low score"
      high[#high + 1] = {set.score[i] >= cut and 1 or 0}
    end
  end
  local lr = sv.surv.logrank(time, event, group)
  local cox = sv.surv.cox(time, event, sv.matrix(high, {"high_score"}))
  report:figure(sv.plot.km({time = time, event = event, group = group},
    {title = task.label .. " model score and DFS", xlab = "Months", ylab = "Disease-free survival",
     breaks = 12, pvalue = lr.p}),
    {name = task.id .. "_km", caption = "Kaplan-Meier curves of DFS by model score (all patients of the task)"})
  local surv_row = {n = cox.n, events = cox.events, logrank_chisq = lr.chisq, logrank_p = lr.p,
                    hr = cox.hr[1], hr_lo = cox.hr_lo[1], hr_hi = cox.hr_hi[1], cox_p = cox.p[1]}
  report:table({surv_row}, {name = task.id .. "_survival",
    columns = {"n", "events", "logrank_chisq", "logrank_p", "hr", "hr_lo", "hr_hi", "cox_p"},
    caption = "DFS, high vs low model score: log-rank test and Cox hazard ratio (95% CI)"})

  summary[#summary + 1] = {task = task, disc = disc, surv = surv_row, selected = selected}
  report:value(task.id, {selected = selected, cutoff = cut, best_options = tuned.best.options,
                         discrimination = disc, delong = delong, survival = surv_row})
end

for _, task in ipairs(TASKS) do run_task(task) end

step("writing the report")
report:write(CONFIG.out)

-- ---- the paper's key figures, on the terminal ---------------------------
print()
local w = 9
for _, s in ipairs(summary) do for _, d in ipairs(s.disc) do w = math.max(w, #d.set) end end
print(("%-6s %-" .. w .. "s %5s  %-16s %6s %6s %6s"):format("task", "set", "n", "AUC (95% CI)", "sens", "spec", "acc"))
for _, s in ipairs(summary) do
  for _, d in ipairs(s.disc) do
    print(("%-6s %-" .. w .. "s %5d  %.2f (%.2f-%.2f) %6.2f %6.2f %6.2f"):format(s.task.id, d.set, d.n,
      d.auc, d.auc_lo, d.auc_hi, d.sensitivity, d.specificity, d.accuracy))
  end
  print(("%-6s DFS high vs low score: log-rank p = %.3g, HR %.2f (%.2f-%.2f)"):format(s.task.id,
    s.surv.logrank_p, s.surv.hr, s.surv.hr_lo, s.surv.hr_hi))
end
print(("\nreport: %s/report.html (%.1f s)"):format(
  (function()                               -- the absolute path, when lfs can say where we are
    local ok, dir = pcall(function() return require("lfs").currentdir() end)
    return (CONFIG.out:sub(1, 1) ~= "/" and ok and dir) and dir .. "/" .. CONFIG.out or CONFIG.out
  end)(), sv.clock() - t_start))
