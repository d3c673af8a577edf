-- report_sample.lua - a sample report with every kind of figure, on the
-- GBSG cohort (tests/fixtures/data/gbsg.csv): used by the tests (XML
-- well-formedness, structure) and to render the screenshots in docs/img/.
--
--   sylva examples/report_sample.lua [outdir]
--
-- The "model scores" here are simple, transparent formulas of the GBSG
-- covariates (no forest), so that the figures can be produced by the plot
-- and report modules alone.
local sv = require "sylva"

local root = os.getenv("SYLVA_ROOT") or "."
local outdir = arg and arg[1] or "report_sample"

-- A numeric CSV with a header (the fixture has no quoted commas).
local function read_numeric_csv(path)
  local names, cols = nil, {}
  for line in io.lines(path) do
    local f = {}
    for x in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = x:gsub('"', "") end
    if not names then
      names = f
      for _, n in ipairs(names) do cols[n] = {} end
    else
      for j, n in ipairs(names) do cols[n][#cols[n] + 1] = tonumber(f[j]) or 0 / 0 end
    end
  end
  return cols, names
end

local path = root .. "/tests/fixtures/data/gbsg.csv"
local d = read_numeric_csv(path)
local n = #d.age
local months, event = {}, {}
for i = 1, n do months[i] = d.rfstime[i] / 30.4375; event[i] = d.status[i] end

-- Two transparent risk scores and recurrence within 24 months as outcome
-- (rows censored before 24 months are left out of the binary analyses).
local y, s1, s2, X, idx = {}, {}, {}, {}, {}
for i = 1, n do
  if event[i] == 1 or months[i] >= 24 then
    idx[#idx + 1] = i
    y[#y + 1] = (event[i] == 1 and months[i] < 24) and 1 or 0
    s1[#s1 + 1] = math.log(1 + d.nodes[i]) + 0.02 * d.size[i] + 0.3 * d.grade[i]
    s2[#s2 + 1] = math.log(1 + d.nodes[i])
  end
end

-- Empirical ROC points and the Mann-Whitney AUC (for the sample only).
local function roc_points(yy, ss)
  local order = {}
  for i = 1, #yy do order[i] = i end
  table.sort(order, function(a, b) return ss[a] > ss[b] end)
  local P, N = 0, 0
  for i = 1, #yy do if yy[i] == 1 then P = P + 1 else N = N + 1 end end
  local fpr, tpr, tp, fp = {0}, {0}, 0, 0
  local k = 1
  while k <= #order do
    local s = ss[order[k]]
    while k <= #order and ss[order[k]] == s do
      if yy[order[k]] == 1 then tp = tp + 1 else fp = fp + 1 end
      k = k + 1
    end
    fpr[#fpr + 1] = fp / N; tpr[#tpr + 1] = tp / P
  end
  local auc = 0
  for a = 2, #fpr do auc = auc + (fpr[a] - fpr[a - 1]) * (tpr[a] + tpr[a - 1]) / 2 end
  return fpr, tpr, auc
end
local f1, t1, a1 = roc_points(y, s1)
local f2, t2, a2 = roc_points(y, s2)

-- Logistic transform of the score to a probability, for calibration and DCA.
local function to_prob(s, a, b)
  local p = {}
  for i = 1, #s do p[i] = 1 / (1 + math.exp(-(a + b * s[i]))) end
  return p
end
local p1, p2 = to_prob(s1, -3.0, 0.95), to_prob(s2, -1.6, 0.7)

-- "SHAP-like" attributions of a linear score: phi_ij = b_j (x_ij - mean_j),
-- exact Shapley values for a linear model with independent features.
local feat = {"age", "size", "grade", "nodes", "pgr", "er", "meno", "hormon"}
local coef = {age = -0.004, size = 0.006, grade = 0.05, nodes = 0.025, pgr = -0.0002, er = -0.00005, meno = 0.01, hormon = -0.04}
local means = {}
for _, f in ipairs(feat) do
  local s = 0
  for i = 1, n do s = s + d[f][i] end
  means[f] = s / n
end
local phi_rows, x_rows = {}, {}
for i = 1, n do
  local pr, xr = {}, {}
  for j, f in ipairs(feat) do pr[j] = coef[f] * (d[f][i] - means[f]); xr[j] = d[f][i] end
  phi_rows[i], x_rows[i] = pr, xr
end
local phi = sv.matrix(phi_rows, feat)
local Xm = sv.matrix(x_rows, feat)
local base = 0.35
local labels = {age = "Age (years)", size = "Tumour size (mm)", grade = "Grade", nodes = "Positive nodes",
                pgr = "PgR (fmol/l)", er = "ER (fmol/l)", meno = "Postmenopausal", hormon = "Hormone therapy"}

local grp, gname = {}, {[1] = "Grade 1", [2] = "Grade 2", [3] = "Grade 3"}
for i = 1, n do grp[i] = gname[d.grade[i]] end

local rep = sv.report.new({title = "Sample report: recurrence after breast cancer surgery (GBSG)",
  subtitle = "Every figure type of sv.plot on the German Breast Cancer Study Group cohort",
  date = os.getenv("SYLVA_REPORT_DATE")})
rep:input(path, "GBSG cohort")
rep:seed("split", 2024)
rep:option("recurrence_window_months", 24)

rep:section("Cohort")
rep:text(("%d patients; %d recurrences or deaths. Binary outcome: recurrence within 24 months (%d of %d evaluable)."):format(
  n, (function() local c = 0 for i = 1, n do c = c + event[i] end return c end)(),
  (function() local c = 0 for _, v in ipairs(y) do c = c + v end return c end)(), #y))
rep:table({columns = {"Characteristic", "Value"}, rows = {
  {"Age, years, mean (SD)", "53.1 (10.1)"}, {"Grade", ""}, {"  1", "81 (11.8%)"}, {"  2", "444 (64.7%)"},
  {"  3", "161 (23.5%)"}, {"Positive nodes, median [IQR]", "3 [1, 7]"}}},
  {name = "cohort", caption = "Illustrative baseline table (numbers typed in; sv.table1 computes them)."})

rep:section("Discrimination")
rep:figure(sv.plot.roc({
  {name = "Nodes + size + grade", fpr = f1, tpr = t1, auc = a1, lo = a1 - 0.045, hi = a1 + 0.045},
  {name = "Nodes only", fpr = f2, tpr = t2, auc = a2, lo = a2 - 0.047, hi = a2 + 0.047},
}), {name = "roc", caption = "ROC curves for recurrence within 24 months (illustrative CIs)."})

rep:section("Survival")
rep:figure(sv.plot.km({time = months, event = event, group = grp},
  {xlab = "Months since surgery", ylab = "Recurrence-free survival", breaks = 12, ci = true, pvalue = 1.2e-5}),
  {name = "km", caption = "Kaplan-Meier curves of recurrence-free survival by tumour grade, with 95% CI bands, censoring marks and the number at risk."})

rep:section("Explanation")
rep:figure(sv.plot.shap_beeswarm(phi, Xm, {labels = labels}), {name = "beeswarm",
  caption = "SHAP summary: each dot is a patient; colour is the feature's value."})
rep:figure(sv.plot.shap_bar(phi, {labels = labels}), {name = "shap_bar", caption = "Mean |SHAP| per feature."})
rep:figure(sv.plot.shap_dependence(phi, Xm, "nodes", {color_by = "grade", labels = labels}),
  {name = "dependence", caption = "SHAP dependence on the number of positive nodes, coloured by grade."})
local r1 = phi:row(7):totable()
local fx = base
for _, v in ipairs(r1) do fx = fx + v end
rep:figure(sv.plot.waterfall(r1, base, Xm:row(7), {names = feat, labels = labels}),
  {name = "waterfall", caption = "Why patient 7 has the predicted risk it has."})

rep:section("Calibration and clinical usefulness")
rep:figure(sv.plot.calibration({{name = "Nodes + size + grade", y = y, p = p1}, {name = "Nodes only", y = y, p = p2}}),
  {name = "calibration", caption = "Calibration by deciles of predicted risk, with 95% Wilson intervals; distribution of predictions below."})
rep:figure((sv.plot.decision_curve({{name = "Nodes + size + grade", y = y, p = p1}, {name = "Nodes only", y = y, p = p2}})),
  {name = "decision", caption = "Decision curve: net benefit across threshold probabilities."})
rep:value("auc", {model1 = a1, model2 = a2})

local files = rep:write(outdir)
for _, f in ipairs(files) do print(f) end
