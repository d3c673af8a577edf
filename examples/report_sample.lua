-- report_sample.lua - a small, complete analysis of the GBSG cohort
-- (tests/fixtures/data/gbsg.csv) that exercises every module of the
-- analyst's layer and every kind of figure: split, Table 1, tuning, SHAP
-- ranking and forward selection, test-set ROC with DeLong CIs,
-- Kaplan-Meier curves with the number at risk, SHAP figures, calibration,
-- decision curve, and a report with provenance. Used by the tests (XML
-- well-formedness, structure) and to render the screenshots in docs/img/.
--
--   sylva examples/report_sample.lua [outdir]
--
-- Outcome: recurrence or death within 24 months of surgery (patients
-- censored before 24 months are left out of the binary analyses).
local sv = require "sylva"

local root = os.getenv("SYLVA_ROOT") or "."
local outdir = arg and arg[1] or "report_sample"
local SEED = 2024
local path = root .. "/tests/fixtures/data/gbsg.csv"
local d = sv.read_csv(path)
local n = d:nrow()

local rfs, status = d:col("rfstime"), d:col("status")
local months, keep, y = {}, {}, {}
for i = 1, n do
  months[i] = rfs[i] / 30.4375
  if status[i] == 1 or months[i] >= 24 then
    keep[#keep + 1] = i
    y[#y + 1] = (status[i] == 1 and months[i] < 24) and 1 or 0
  end
end
local feats = {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"}
local labels = {age = "Age (years)", size = "Tumour size (mm)", grade = "Grade", nodes = "Positive nodes",
                pgr = "PgR (fmol/l)", er = "ER (fmol/l)", meno = "Postmenopausal", hormon = "Hormone therapy"}
local Xall = d:matrix(feats):rows(keep)

-- 7:3 stratified split
local train, test = sv.split.holdout(y, {prop = 0.7, seed = SEED})
local X_train, X_test = Xall:rows(train), Xall:rows(test)
local y_train, y_test = sv.split.take(y, train), sv.split.take(y, test)

-- Table 1 by set
local cols, set = {}, {}
for _, f in ipairs(feats) do cols[f] = Xall:col(f):totable() end
for _, i in ipairs(train) do set[i] = "Training" end
for _, i in ipairs(test) do set[i] = "Test" end
cols.outcome = y
local tab1 = sv.table1(cols, {by = set, groups = {"Training", "Test"}, vars = {
  {name = "age", label = "Age, years"}, {name = "meno", label = "Menopausal status", level_labels = {[0] = "Pre", [1] = "Post"}},
  {name = "size", label = "Tumour size, mm"}, {name = "grade", label = "Grade"},
  {name = "nodes", label = "Positive nodes"}, {name = "pgr", label = "PgR, fmol/l"}, {name = "er", label = "ER, fmol/l"},
  {name = "hormon", label = "Hormone therapy", level_labels = {[0] = "No", [1] = "Yes"}},
  {name = "outcome", label = "Recurrence within 24 months", level_labels = {[0] = "No", [1] = "Yes"}}}})

-- Tuning, SHAP ranking and forward selection on the training set only
local base_forest = {trees = 150, threads = 0}
local tuned = sv.tune.grid(X_train, y_train, {min_leaf = {1, 5, 10}, mtry = {2, 3}},
  {k = 5, seed = SEED, forest = base_forest, progress = false})
local ranking, phi_all = sv.select.shap_rank(X_train, y_train, {forest = tuned.best_options, seed = SEED})
local sel = sv.select.forward(X_train, y_train, {ranking = ranking, forest = tuned.best_options, k = 5, seed = SEED,
  tol = 0.005, progress = false})

-- Final model on the selected features; test-set evaluation
local Xs_train, Xs_test = X_train:cols(sel.selected), X_test:cols(sel.selected)
local model = sv.forest.train(Xs_train, y_train, tuned.best_options)
local p_test = model:predict(Xs_test)
local nodes_test = Xs_test:names() and X_test:col("nodes")
local function roc_entry(name, score)
  local a = sv.roc.auc(y_test, score)
  local c = sv.roc.curve(y_test, score)
  return {name = name, fpr = c.fpr, tpr = c.tpr, auc = a.auc, lo = a.lo, hi = a.hi}
end
local r_model = roc_entry("Random forest", p_test)
local r_nodes = roc_entry("Positive nodes only", nodes_test)
local cmp = sv.roc.test(y_test, p_test, nodes_test)
-- a logistic-style recalibration of node counts, as a comparator probability
local p_nodes = {}
for i = 1, #nodes_test do p_nodes[i] = 1 / (1 + math.exp(-(-1.9 + 0.75 * math.log(1 + nodes_test[i])))) end

-- SHAP on the training rows of the final model
local phi, base = sv.shap.tree(model, Xs_train)
local which = 1
for i = 1, #y_test do if y_test[i] == 1 then which = i; break end end
local phi_t, base_t = sv.shap.tree(model, Xs_test:rows({which}))

-- Kaplan-Meier by grade, whole cohort
local gname = {[1] = "Grade 1", [2] = "Grade 2", [3] = "Grade 3"}
local grade = d:col("grade")
local grp = {}
for i = 1, n do grp[i] = gname[grade[i]] end

local rep = sv.report.new({title = "Sample analysis: recurrence within 24 months after breast cancer surgery (GBSG)",
  subtitle = "Every module of sylva's analyst layer on the German Breast Cancer Study Group cohort",
  date = os.getenv("SYLVA_REPORT_DATE")})
rep:input(path, "GBSG cohort")
rep:seed("split", SEED):seed("cv", SEED)
rep:option("forest", tuned.best_options)
rep:option("selection", {rule = sel.rule, tol = sel.tol, folds = 5})

rep:section("Cohort")
rep:text(("%d patients; %d evaluable for the 24-month outcome, %d with recurrence. " ..
  "Stratified 7:3 split: %d training, %d test patients."):format(n, #y,
  (function() local c = 0 for _, v in ipairs(y) do c = c + v end return c end)(), #train, #test))
rep:table(tab1, {name = "table1", caption = "Baseline characteristics by set."})

rep:section("Model development (training set)")
rep:table(tuned.table, {name = "tuning", caption = "Grid search: 5-fold CV AUC per configuration (150 trees)."})
rep:figure(sv.plot.cv_curve(sel), {name = "cv_curve",
  caption = ("Forward selection in SHAP order; %d features selected (%s)."):format(sel.k, table.concat(sel.selected, ", "))})

rep:section("Discrimination (test set)")
rep:figure(sv.plot.roc({r_model, r_nodes}), {name = "roc",
  caption = ("ROC curves on the test set (DeLong 95%% CIs); DeLong test for the difference p = %.3f."):format(cmp.p)})
rep:value("auc_test", {model = r_model.auc, lo = r_model.lo, hi = r_model.hi, nodes = r_nodes.auc, p_delong = cmp.p})

rep:section("Survival")
rep:figure(sv.plot.km({time = months, event = status:totable(), group = grp},
  {xlab = "Months since surgery", ylab = "Recurrence-free survival", breaks = 12, ci = true}),
  {name = "km", caption = "Kaplan-Meier curves of recurrence-free survival by tumour grade (95% CI bands, censoring marks, number at risk, log-rank test)."})

rep:section("Explanation (training set)")
rep:figure(sv.plot.shap_beeswarm(phi_all, X_train, {labels = labels}), {name = "beeswarm",
  caption = "SHAP summary of the forest on all candidate features (the ranking used for selection): each dot is a patient; colour is the feature's value."})
rep:figure(sv.plot.shap_bar(phi_all, {labels = labels}), {name = "shap_bar", caption = "Mean |SHAP| per candidate feature: the selection order."})
rep:figure(sv.plot.shap_dependence(phi, Xs_train, "nodes", {color_by = sel.selected[2] ~= "nodes" and sel.selected[2] or sel.selected[1], labels = labels}),
  {name = "dependence", caption = "SHAP dependence on the number of positive nodes."})
rep:figure(sv.plot.waterfall(phi_t:row(1), base_t, Xs_test:row(which), {names = Xs_test:names(), labels = labels}),
  {name = "waterfall", caption = "Why one test patient (who recurred) has the predicted risk the model gives."})

rep:section("Calibration and clinical usefulness (test set)")
local models = {{name = "Random forest", y = y_test, p = p_test}, {name = "Positive nodes only", y = y_test, p = p_nodes}}
rep:figure(sv.plot.calibration(models, {bins = 5}), {name = "calibration",
  caption = "Calibration by quintiles of predicted risk, with 95% Wilson intervals; distribution of predictions below."})
rep:figure((sv.plot.decision_curve(models, {xlim = {0, 0.6}})), {name = "decision",
  caption = "Decision curve: net benefit across threshold probabilities."})

local files = rep:write(outdir)
for _, f in ipairs(files) do print(f) end
