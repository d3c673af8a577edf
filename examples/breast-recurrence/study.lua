-- study.lua - the HER2 study's workflow on real, public data: two breast
-- cancer cohorts that ship with R's survival package (Therneau; exported to
-- tests/fixtures/data/ by tests/oracle/export_data.R, see
-- docs/data-sources.md). Develop on the Rotterdam tumour bank, validate
-- externally on the German Breast Cancer Study Group trial (GBSG).
--
--   sylva examples/breast-recurrence/study.lua     -> out/breast-recurrence/
--
-- The question: recurrence or death within 5 years of surgery, from age,
-- menopause, tumour size, grade, positive nodes, receptors and hormonal
-- therapy. Choices, each explained where it is made:
--   * development on node-positive Rotterdam patients only: GBSG enrolled
--     only node-positive patients, and Royston & Altman (2013) developed
--     their model on the same subset;
--   * the endpoint is recurrence-free survival (recurrence or death) in both
--     cohorts, since that is what GBSG records; for Rotterdam it is derived
--     conservatively (deaths after the last recurrence follow-up are not
--     counted; R's ?rotterdam example, `rfs2`);
--   * the 5-year label: 1 if the event happened within 5 years, 0 if the
--     patient was followed beyond 5 years without it, and excluded from the
--     classification if censored before 5 years (the label is unknown). The
--     numbers excluded are reported; the survival analysis keeps everyone.
local sv = require "sylva"

local HERE = (arg and arg[0] or "examples/breast-recurrence/study.lua"):match("^(.*)/[^/]*$") or "."
local ROOT = HERE .. "/../.."
local QUICK = os.getenv("SYLVA_QUICK") == "1"
local CONFIG = {
  seed = 1978,
  out = os.getenv("SYLVA_OUT") or "out/breast-recurrence",
  threads = tonumber(os.getenv("SYLVA_THREADS") or "0"),
  trees = QUICK and 100 or 300,
  grid = QUICK and {mtry = {2, 3}, min_leaf = {5, 20}} or {mtry = {2, 3, 4}, min_leaf = {5, 10, 20}},
  folds = 5,
  horizon_days = 5 * 365.25,
}

local t_start = sv.clock()
local function step(what) io.stderr:write(("[%5.1f s] %s\n"):format(sv.clock() - t_start, what)) end

-- ---- data: each cohort with its own encoding ----------------------------
step("reading and encoding Rotterdam and GBSG")
local function load(name)
  local enc = sv.encode.load(HERE .. "/encodings/" .. name .. ".lua")
  return sv.encode.apply(enc, sv.read_csv(ROOT .. "/tests/fixtures/data/" .. name .. ".csv"))
end
local rotterdam, gbsg = load("rotterdam"), load("gbsg")

-- recurrence-free survival in days, the same definition in both cohorts
local function rfs(d)
  local o, time, event = d.outcomes, {}, {}
  for i = 1, d.n do
    if o.rfstime then                                   -- GBSG records RFS directly
      time[i], event[i] = o.rfstime[i], o.status[i]
    else                                                -- Rotterdam: recurrence, else death (conservative)
      local ignore = o.recur[i] == 0 and o.death[i] == 1 and o.rtime[i] < o.dtime[i]
      if o.recur[i] == 1 or ignore then time[i], event[i] = o.rtime[i], o.recur[i]
      else time[i], event[i] = o.dtime[i], o.death[i] end
    end
  end
  return time, event
end

-- the 5-year label: 1 event by 5 years, 0 event-free beyond, nil unknown
local function label(time, event)
  local y = {}
  for i = 1, #time do
    if event[i] == 1 and time[i] <= CONFIG.horizon_days then y[i] = 1
    elseif time[i] > CONFIG.horizon_days then y[i] = 0 end
  end
  return y
end

local function cohort(d, name, keep)
  local time, event = rfs(d)
  local y = label(time, event)
  local rows, lab = {}, {}
  for i = 1, d.n do
    if keep(d, i) and y[i] ~= nil then rows[#rows + 1] = i; lab[#lab + 1] = y[i] end
  end
  local all = {}
  for i = 1, d.n do if keep(d, i) then all[#all + 1] = i end end
  local c = {name = name, d = sv.encode.subset(d, rows), y = lab, all = sv.encode.subset(d, all)}
  c.time, c.event = rfs(c.all)
  c.excluded = #all - #rows
  return c
end

local node_positive = function(d, i) return d.X:get(i, "nodes") > 0 end
local dev = cohort(rotterdam, "Rotterdam", node_positive)
local ext = cohort(gbsg, "GBSG", function() return true end)

local report = sv.report.new({title = "Recurrence within 5 years: Rotterdam -> GBSG",
  subtitle = "Random forest, SHAP and recurrence-free survival on two public breast-cancer cohorts"})
report:input(ROOT .. "/tests/fixtures/data/rotterdam.csv", "Rotterdam tumour bank (R survival::rotterdam)")
report:input(ROOT .. "/tests/fixtures/data/gbsg.csv", "GBSG trial (R survival::gbsg)")
report:seed("study", CONFIG.seed)
report:option("trees", CONFIG.trees)
report:option("grid", CONFIG.grid)

report:section("Cohorts and label")
report:text([[Development: the node-positive patients of the Rotterdam tumour bank (R survival's rotterdam; GBSG enrolled node-positive patients only, and Royston & Altman 2013 developed their model on the same subset). External validation: the GBSG trial (R survival's gbsg). Features common to both: age, menopause, tumour size (Rotterdam's three categories; GBSG's millimetres mapped onto them), grade, positive nodes, progesterone and oestrogen receptors, hormonal therapy. Rotterdam's chemotherapy has no GBSG counterpart and is not used.

Endpoint: recurrence-free survival (recurrence or death), as GBSG records it; for Rotterdam, recurrence time if there was a recurrence, else death time, not counting deaths after the last recurrence follow-up (the conservative definition of R's ?rotterdam). Label: 1 if the event occurred within 5 years, 0 if the patient was followed beyond 5 years without it; patients censored before 5 years have no label and are left out of the classification (not of the survival analysis).

Rotterdam is split 7:3 (stratified) into training and internal test sets; a random forest is tuned by 5-fold CV AUC on training; features are ranked by mean |SHAP|. Training AUC is out-of-bag; the risk-group cut-off is the Youden point of the training out-of-bag scores.]])
local counts = {}
for _, c in ipairs({dev, ext}) do
  local pos = 0
  for _, v in ipairs(c.y) do pos = pos + v end
  counts[#counts + 1] = {cohort = c.name, patients = c.all.n, censored_before_5y_excluded = c.excluded,
                         classified = #c.y, events_by_5y = pos, event_free_beyond_5y = #c.y - pos}
end
report:value("cohorts", counts)
report:table(counts, {name = "cohorts", columns = {"cohort", "patients", "censored_before_5y_excluded",
  "classified", "events_by_5y", "event_free_beyond_5y"},
  caption = "Patients, and who has a 5-year label (censored before 5 years: excluded from classification)"})

-- ---- development: split, impute, tune, model ----------------------------
step("Rotterdam: 7:3 split, imputation, grid search")
local train_idx, test_idx = sv.split.holdout(dev.y, {prop = 0.7, seed = CONFIG.seed})
local imputer = sv.encode.fit_imputer(sv.encode.subset(dev.d, train_idx))
local sets = {
  {name = "training", d = imputer:apply(sv.encode.subset(dev.d, train_idx)), y = sv.split.take(dev.y, train_idx)},
  {name = "internal", d = imputer:apply(sv.encode.subset(dev.d, test_idx)), y = sv.split.take(dev.y, test_idx)},
  {name = "external", d = imputer:apply(ext.d), y = ext.y},
}
local train = sets[1]
-- Table 1: the sets stacked into columns, with a `set` column to group by
local t1, by = {}, {}
local SIZE = {"<=20 mm", "21-50 mm", ">50 mm"}
for _, s in ipairs(sets) do
  for i = 1, #s.y do
    by[#by + 1] = s.name
    for _, name in ipairs(s.d.names) do
      t1[name] = t1[name] or {}
      local v = s.d.X:get(i, name)
      if name == "size" then v = SIZE[math.tointeger(v)]
      elseif name == "postmenopausal" or name == "hormon" then v = v == 1 and "yes" or "no" end
      t1[name][#by] = v
    end
    t1.label = t1.label or {}
    t1.label[#by] = s.y[i] == 1 and "yes" or "no"
  end
end
report:table(sv.table1(t1, {by = by, groups = {"training", "internal", "external"}, vars = {
  {name = "age", label = "Age (years)"}, {name = "postmenopausal", label = "Postmenopausal"},
  {name = "size", label = "Tumour size", type = "categorical", levels = SIZE},
  {name = "grade", label = "Grade", type = "categorical"}, {name = "nodes", label = "Positive nodes"},
  {name = "pgr", label = "Progesterone receptor (fmol/l)"}, {name = "er", label = "Oestrogen receptor (fmol/l)"},
  {name = "hormon", label = "Hormonal therapy"},
  {name = "label", label = "Recurrence or death within 5 years", type = "categorical", levels = {"no", "yes"}}}}),
  {name = "table1", caption = "Baseline characteristics of the classified patients by set"})

local fopts = {trees = CONFIG.trees, seed = CONFIG.seed, threads = CONFIG.threads}
local tuned = sv.tune.grid(train.d.X, train.y, CONFIG.grid,
  {k = CONFIG.folds, seed = CONFIG.seed, forest = fopts, progress = false})
fopts = tuned.best_options
report:table(tuned.table, {name = "grid", caption = "Grid search: 5-fold CV AUC on training"})

step("forest, SHAP ranking")
local model = sv.forest.train(train.d.X, train.y, fopts)
local phi = sv.shap.tree(model, train.d.X, {threads = CONFIG.threads})
report:section("Model and SHAP")
report:figure(sv.plot.shap_beeswarm(phi, train.d.X), {name = "shap_beeswarm", caption = "SHAP summary (training)"})
report:figure(sv.plot.shap_bar(phi), {name = "shap_bar", caption = "Mean |SHAP| ranking"})
local ranking = {}
for k, r in ipairs(sv.shap.importance(phi)) do ranking[k] = {rank = k, feature = r.name, mean_abs_shap = r.value} end
report:table(ranking, {name = "shap_ranking", columns = {"rank", "feature", "mean_abs_shap"},
  caption = "Features ranked by mean |SHAP| on the training set"})
report:value("shap_ranking", ranking)

-- ---- discrimination ------------------------------------------------------
step("AUC with DeLong CI on training (OOB), internal and external sets")
report:section("Discrimination")
sets[1].score = model:oob_predict()
sets[2].score = model:predict(sets[2].d.X)
sets[3].score = model:predict(sets[3].d.X)
local cut = sv.roc.youden(train.y, sets[1].score).threshold
local disc = {}
for _, s in ipairs(sets) do
  local a = sv.roc.auc(s.y, s.score, {ci = "delong"})
  disc[#disc + 1] = {set = s.name, n = #s.y, auc = a.auc, auc_lo = a.lo, auc_hi = a.hi}
end
report:table(disc, {name = "discrimination", columns = {"set", "n", "auc", "auc_lo", "auc_hi"},
  caption = "AUC (95% DeLong CI); training AUC from out-of-bag predictions"})
report:figure(sv.plot.roc({
  {name = "Training (OOB)", y = sets[1].y, score = sets[1].score},
  {name = "Internal (Rotterdam)", y = sets[2].y, score = sets[2].score},
  {name = "External (GBSG)", y = sets[3].y, score = sets[3].score}}, {title = "5-year recurrence"}),
  {name = "roc"})

-- ---- survival by model risk group (external cohort, everyone) ------------
step("GBSG: Kaplan-Meier, log-rank and Cox by model risk group")
report:section("Recurrence-free survival in GBSG by model risk group")
local all_ext = imputer:apply(ext.all)
local score = model:predict(all_ext.X)
local group, years, rows = {}, {}, {}
for i = 1, #score do
  group[i] = score[i] >= cut and "High risk" or "Low risk"
  years[i] = ext.time[i] / 365.25
  rows[i] = {score[i] >= cut and 1 or 0}
end
local lr = sv.surv.logrank(years, ext.event, group)
local cox = sv.surv.cox(years, ext.event, sv.matrix(rows, {"high_risk"}))
report:figure(sv.plot.km({time = years, event = ext.event, group = group},
  {title = "GBSG: recurrence-free survival by model risk group", pvalue = lr.p, xlab = "Years since surgery",
   ylab = "Recurrence-free survival", breaks = 1, xmax = 7}),
  {name = "km_gbsg", caption = "Kaplan-Meier curves of RFS in GBSG (all 686 patients) by model risk group"})
local surv_row = {n = cox.n, events = cox.events, logrank_p = lr.p, hr = cox.hr[1], hr_lo = cox.hr_lo[1], hr_hi = cox.hr_hi[1]}
report:table({surv_row}, {name = "survival", columns = {"n", "events", "logrank_p", "hr", "hr_lo", "hr_hi"},
  caption = ("High vs low risk (cut-off %.3f, Youden on training OOB scores)"):format(cut)})
report:value("discrimination", disc)
report:value("survival", surv_row)
report:write(CONFIG.out)

print()
for _, d in ipairs(disc) do
  print(("%-9s n=%4d  AUC %.3f (%.3f-%.3f)"):format(d.set, d.n, d.auc, d.auc_lo, d.auc_hi))
end
print(("GBSG RFS high vs low risk: log-rank p = %.3g, HR %.2f (%.2f-%.2f)"):format(lr.p, surv_row.hr, surv_row.hr_lo, surv_row.hr_hi))
print(("report: %s/report.html (%.1f s)"):format(
  (function()                               -- the absolute path, when lfs can say where we are
    local ok, dir = pcall(function() return require("lfs").currentdir() end)
    return (CONFIG.out:sub(1, 1) ~= "/" and ok and dir) and dir .. "/" .. CONFIG.out or CONFIG.out
  end)(), sv.clock() - t_start))
