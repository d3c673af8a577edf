-- sv.plot: well-formed SVG, structure (curves, at-risk table, legend
-- placement) and the numbers behind the figures, worked by hand.
local T = require "testing"
local sv = require "sylva"
local P = sv.plot

local tmp = T.tmp .. "/plot"
os.execute("mkdir -p '" .. tmp .. "'")

-- xmllint (libxml2-utils, installed by `make deps`) must accept the file.
local function well_formed(svg, name)
  local path = tmp .. "/" .. name .. ".svg"
  P.save(svg, path)
  local ok = os.execute("xmllint --noout '" .. path .. "' 2>" .. tmp .. "/xmllint.err")
  if not ok then
    error(name .. ".svg is not well-formed XML: " .. T.read_file(tmp .. "/xmllint.err"), 2)
  end
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

T.test("nice ticks follow 1-2-5 steps and cover the range", function()
  local t, step = P.nice_ticks(0, 1, 6)
  T.eq(step, 0.2); T.eq(t[1], 0); T.near(t[#t], 1, 1e-12)
  t, step = P.nice_ticks(0, 87, 6)   -- range 87 -> nice 100, step 100/5 = 20
  T.eq(step, 20); T.eq(t[#t], 100)
  t, step = P.nice_ticks(-0.43, 1.12, 6)
  T.eq(step, 0.5); T.eq(t[1], -0.5); T.eq(t[#t], 1.5)
end)

T.test("p-values are printed as journals do", function()
  T.eq(P.format_p(0.0004), "< 0.001")
  T.eq(P.format_p(0.0042), "= 0.004")
  T.eq(P.format_p(0.234), "= 0.23")
end)

-- Two hand-made ROC curves.
local c1 = {name = "Model A", fpr = {0, 0, 0.5, 1}, tpr = {0, 0.5, 1, 1}, auc = 0.875, lo = 0.71, hi = 0.99}
local c2 = {name = "Model B", fpr = {0, 0.5, 1}, tpr = {0, 0.5, 1}, auc = 0.5}

T.test("ROC: one curve element per model, AUC and CI in the legend, chance line", function()
  local svg = P.roc({c1, c2})
  well_formed(svg, "roc")
  T.eq(count(svg, 'class="curve"'), 2)
  T.ok(svg:find("Model A: AUC 0.875 (95% CI 0.710\u{2013}0.990)", 1, true), "legend with CI")
  T.ok(svg:find("Model B: AUC 0.500", 1, true))
  T.ok(svg:find(">Chance<", 1, true), "chance line in the legend")
  T.ok(svg:find('stroke-dasharray="6 5"', 1, true), "dashed chance line")
  T.ok(svg:find(">Sensitivity<", 1, true) and svg:find("Specificity", 1, true), "axis labels")
end)

-- Pixel coordinates of every curve path and the legend box: no curve
-- vertex may fall inside the legend.
local function legend_box(svg)
  local x, y = svg:match('class="legend" transform="translate%(([%d.]+),([%d.]+)%)"')
  local w, h = svg:match('class="legend"[^\n]*\n<rect x="0" y="0" width="([%d.]+)" height="([%d.]+)"')
  return tonumber(x), tonumber(y), tonumber(w), tonumber(h)
end

T.test("ROC: the legend covers no part of any curve", function()
  local svg = P.roc({c1, c2})
  local x, y, w, h = legend_box(svg)
  T.ok(x and w, "legend found")
  local inside = 0
  for g in svg:gmatch('<g class="curve".-</g>') do
    for px, py in g:gmatch("[ML]([%d.]+),([%d.]+)") do
      px, py = tonumber(px), tonumber(py)
      if px > x and px < x + w and py > y and py < y + h then inside = inside + 1 end
    end
  end
  T.eq(inside, 0)
end)

T.test("a legend that would cover data in every corner goes below the figure", function()
  -- Curves through all four corners of the panel.
  local zig = {name = "Everywhere", fpr = {0, 0.02, 0.98, 1, 1}, tpr = {0, 0.98, 0.02, 0.98, 1}}
  local svg = P.roc({zig, {name = "Second", fpr = {0, 0.03, 0.97, 1}, tpr = {0, 0.03, 0.97, 1}}},
                    {width = 400, height = 400})
  well_formed(svg, "roc_crowded")
  local _, y = legend_box(svg)
  local H = tonumber(svg:match('<svg[^>]* height="([%d.]+)"'))
  T.ok(H > 400, "figure grew")
  T.ok(y > 380, "legend below the panel: y = " .. tostring(y))
end)

T.test("a legend wider than the panel goes below the figure", function()
  local long = {name = "A model with a very long descriptive name that no panel can hold", fpr = {0, 1}, tpr = {0, 1}, auc = 0.5}
  local svg = P.roc({long}, {width = 380, height = 380})
  well_formed(svg, "roc_wide_legend")
  local _, y = legend_box(svg)
  T.ok(y > 360, "legend below the panel: y = " .. tostring(y))
end)

-- Kaplan-Meier: 4 patients, hand-worked.
--   t=1 event (4 at risk): S = 3/4;  t=2 censored;  t=3 event (2 at risk): S = 3/8;
--   t=4 event (1 at risk): S = 0.
T.test("KM fit by hand: product-limit estimate and numbers at risk", function()
  local f = P._km_fit({3, 1, 4, 2}, {1, 1, 1, 0})
  T.eq(#f.time, 4)
  T.near(f.surv[1], 0.75, 1e-15); T.near(f.surv[2], 0.75, 1e-15)
  T.near(f.surv[3], 0.375, 1e-15); T.near(f.surv[4], 0, 1e-15)
  T.eq(f.n_risk[1], 4); T.eq(f.n_risk[3], 2); T.eq(f.n_censor[2], 1)
end)

T.test("KM: curves per group, censor ticks, at-risk table under the plot, log-rank p", function()
  local time = {1, 2, 3, 4, 5, 6, 2, 3, 5, 8, 9, 10}
  local event = {1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1}
  local group = {"A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B"}
  local svg = P.km({time = time, event = event, group = group}, {breaks = 2, pvalue = 0.0123, ci = true, xlab = "Months"})
  well_formed(svg, "km")
  T.eq(count(svg, 'class="curve"'), 2)
  T.eq(count(svg, 'class="ci%-band"'), 2)
  T.ok(svg:find('class="at%-risk"'), "at-risk table present")
  T.eq(count(svg, 'class="risk%-label"'), 2)
  -- Ticks 0, 2, 4, 6, 8, 10: rows with time >= tick. A (1..6): 6, 5, 3, 1, 0, 0;
  -- B (2, 3, 5, 8, 9, 10): 6, 6, 4, 3, 3, 1.
  local nums = {}
  for v in svg:gmatch('class="risk">(%d+)<') do nums[#nums + 1] = tonumber(v) end
  local want = {6, 5, 3, 1, 0, 0, 6, 6, 4, 3, 3, 1}
  T.eq(#nums, #want)
  for i = 1, #want do T.eq(nums[i], want[i], "at risk " .. i) end
  -- censored: A at 2 and 5; B at 3, 5, 9 -> 5 ticks ("v-7" each)
  T.eq(count(svg, "v%-7"), 5)
  T.ok(svg:find("Log-rank p = 0.01", 1, true), "p-value shown")
  -- the at-risk table lies below the x axis label
  local xlab_y = tonumber(svg:match('y="([%d.]+)"[^>]*class="xlab"'))
  local risk_y = tonumber(svg:match('y="([%d.]+)" font%-size="%d+" fill="[^"]+" font%-weight="bold" class="risk%-label"'))
  T.ok(risk_y > xlab_y, "at-risk rows under the plot")
end)

T.test("KM accepts a grouped fit from sv.surv.km(..., {group = g})", function()
  local fit = sv.surv.km({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {group = {"x", "x", "x", "y", "y", "y"}})
  local svg = P.km(fit, {pvalue = 0.5})
  well_formed(svg, "km_grouped")
  T.eq(count(svg, 'class="curve"'), 2)
  T.ok(svg:find('data-name="y"', 1, true))
  -- group y (times 4, 5, 6) at risk at tick 0 is 3, at 4 still 3
  T.ok(svg:find('class="at%-risk"'))
end)

T.test("KM accepts precomputed fits (as from sv.surv.km)", function()
  local fit = {time = {1, 2, 3}, n_risk = {3, 2, 1}, n_event = {1, 0, 1}, n_censor = {0, 1, 0},
               surv = {2 / 3, 2 / 3, 0}, lower = {0.3, 0.3, 0 / 0}, upper = {1, 1, 0 / 0}}
  local svg = P.km({{name = "Only", fit = fit}}, {risk_table = false, ci = true})
  well_formed(svg, "km_fit")
  T.eq(count(svg, 'class="curve"'), 1)
  T.ok(not svg:find('class="at%-risk"'), "no table when risk_table = false")
end)

-- SHAP figures on a 4 x 3 example.
local phi = sv.matrix({{0.1, -0.2, 0.0}, {0.3, 0.1, 0.01}, {-0.2, 0.05, 0.0}, {0.0, -0.3, 0.02}}, {"a", "b", "c"})
local X = sv.matrix({{1, 5, 0}, {2, 6, 1}, {3, 7, 0}, {4, 8, 1}}, {"a", "b", "c"})
-- mean |SHAP|: a = 0.6/4 = 0.15, b = 0.65/4 = 0.1625, c = 0.03/4 = 0.0075 -> order b, a, c

T.test("beeswarm: one dot per patient and feature, features by mean |SHAP|", function()
  local svg = P.shap_beeswarm(phi, X)
  well_formed(svg, "beeswarm")
  T.eq(count(svg, "<circle"), 12)
  local order = {}
  for f in svg:gmatch('class="swarm" data%-feature="(%w+)"') do order[#order + 1] = f end
  T.eq(table.concat(order, ","), "b,a,c")
  T.ok(svg:find('class="colorbar"'), "colour bar")
  T.eq(count(P.shap_beeswarm(phi, X, {max_display = 2}), "<circle"), 8)
end)

T.test("bar chart: bars in mean |SHAP| order with their values", function()
  local svg = P.shap_bar(phi)
  well_formed(svg, "shap_bar")
  T.eq(count(svg, 'class="bar"'), 3)
  local bars = svg:sub((svg:find('class="bar"', 1, true))) -- after the axis tick labels
  -- one precision for all bars (3 significant digits of the largest: 3 decimals)
  local i_b, i_a, i_c = bars:find(">0.163<", 1, true), bars:find(">0.150<", 1, true), bars:find(">0.007<", 1, true)
  T.ok(i_b and i_a and i_c and i_b < i_a and i_a < i_c, "values 0.163, 0.150, 0.007 in order")
end)

T.test("dependence plot: one point per patient, coloured by another feature", function()
  local svg = P.shap_dependence(phi, X, "b", {color_by = "c"})
  well_formed(svg, "dependence")
  T.eq(count(svg, "<circle"), 4)
  T.ok(svg:find("SHAP value for b", 1, true))
  T.raises(function() P.shap_dependence(phi, X, "zz") end, "no feature named 'zz'")
end)

T.test("dependence plot of a binary feature: ticks at 0 and 1, points jittered around them", function()
  local svg = P.shap_dependence(phi, X, "c")
  well_formed(svg, "dependence_binary")
  local xs = {}
  for cx in svg:gmatch('<circle cx="([%d.]+)"') do xs[#xs + 1] = tonumber(cx) end
  T.eq(#xs, 4)
  local distinct = {}
  for _, x in ipairs(xs) do distinct[x] = true end
  local nd = 0
  for _ in pairs(distinct) do nd = nd + 1 end
  T.eq(nd, 4, "no two points at the same x")
  -- tick labels are exactly the values 0 and 1
  local ticks = {}
  for t in svg:gmatch('text%-anchor="middle" font%-size="14">([^<]+)</text>') do ticks[#ticks + 1] = t end
  T.eq(table.concat(ticks, ","), "0,1")
end)

T.test("net benefit agrees with sv.calib.dca (an independent implementation checked against R)", function()
  local r = sv.rng(5)
  local y, p = {}, {}
  for i = 1, 300 do
    p[i] = math.floor(r:uniform() * 1000) / 1000      -- ties on purpose
    y[i] = (r:uniform() < p[i]) and 1 or 0
  end
  local th = {}
  for k = 1, 99 do th[k] = k / 100 end
  local mine = P.net_benefit(y, p, th)
  local ref = sv.calib.dca(y, p, {thresholds = th})
  for k = 1, 99 do T.near(mine[k], ref.model[k], 1e-12, "t = " .. th[k]) end
  local _, data = P.decision_curve({{name = "M", y = y, p = p}}, {thresholds = th})
  for k = 1, 99 do T.near(data.treat_all[k], ref.all[k], 1e-12) end
  -- and the Brier score in the calibration legend is sv.calib.brier's
  local svg = P.calibration({{name = "M", y = y, p = p}})
  T.ok(svg:find(("M (Brier %.3f)"):format(sv.calib.brier(y, p)), 1, true))
end)

T.test("decision curve: one 'treat all' line per distinct outcome set", function()
  local y1, p1 = {1, 0, 1, 0}, {0.9, 0.6, 0.4, 0.1}
  local y2, p2 = {1, 0, 0, 0, 0}, {0.8, 0.3, 0.2, 0.1, 0.4}
  local svg, data = P.decision_curve({{name = "A", y = y1, p = p1}, {name = "B", y = y1, p = p2 and {0.5, 0.5, 0.5, 0.5}}})
  T.eq(count(svg, 'class="reference"'), 2, "same patients: one treat-all and treat-none")
  svg, data = P.decision_curve({{name = "Internal", y = y1, p = p1}, {name = "External", y = y2, p = p2}})
  well_formed(svg, "decision_two_sets")
  T.eq(count(svg, 'class="reference"'), 3, "two treat-all lines and treat-none")
  T.ok(svg:find("Treat all (External)", 1, true))
  T.near(data.prevalence_by_model[2], 0.2, 1e-15)
  local t = data.thresholds[10]
  T.near(data.treat_all_by_model[2][10], 0.2 - 0.8 * t / (1 - t), 1e-15)
end)

T.test("waterfall: bars add up from E[f(X)] to f(x)", function()
  -- base 0.4; phi = 0.1, -0.2, 0.05 -> f(x) = 0.35
  local svg = P.waterfall({0.1, -0.2, 0.05}, 0.4, {1, 2, 3}, {names = {"a", "b", "c"}})
  well_formed(svg, "waterfall")
  T.ok(svg:find("f(x) = 0.350", 1, true))
  T.ok(svg:find("E[f(X)] = 0.400", 1, true))
  T.eq(count(svg, 'class="bar"'), 3)
  local first = svg:find("b = 2", 1, true)
  T.ok(first and first < svg:find("a = 1", 1, true), "largest |phi| first")
  -- with max_display the rest is one bar
  local s2 = P.waterfall({0.1, -0.2, 0.05}, 0.4, {1, 2, 3}, {names = {"a", "b", "c"}, max_display = 1})
  T.ok(s2:find("2 other features", 1, true))
end)

T.test("figures draw the engine's numbers: calibration, decision curve, SHAP order", function()
  local r = sv.rng(11)
  local y, p = {}, {}
  for i = 1, 257 do
    p[i] = math.floor(r:uniform() * 50) / 50     -- ties on purpose
    y[i] = (r:uniform() < p[i]) and 1 or 0
  end
  p[3], y[8] = 0 / 0, 0 / 0                     -- missing values are left out
  local yy, pp = {}, {}
  for i = 1, #y do if y[i] == y[i] and p[i] == p[i] then yy[#yy + 1] = y[i]; pp[#pp + 1] = p[i] end end
  -- calibration: each point of the figure is a bin of the table
  local tab = sv.calib.curve(yy, pp, {bins = 7, strategy = "equal_size"})
  local svg = P.calibration({{name = "M", y = y, p = p}}, {bins = 7})
  local k = 0
  for pred, obs, lo, hi, n in svg:gmatch('data%-pred="([^"]+)" data%-obs="([^"]+)" data%-lo="([^"]+)" data%-hi="([^"]+)" data%-n="([^"]+)"') do
    k = k + 1
    T.eq(tonumber(pred), tab.mean_predicted[k]); T.eq(tonumber(obs), tab.observed[k])
    T.eq(tonumber(lo), tab.lo[k]); T.eq(tonumber(hi), tab.hi[k]); T.eq(tonumber(n), tab.n[k])
  end
  T.eq(k, #tab.n, "one point per bin")
  T.ok(svg:find(("M (Brier %.3f)"):format(sv.calib.brier(yy, pp)), 1, true))
  -- the Wilson interval of a bin is sv.metrics.ci_proportion's
  local lo, hi = sv.metrics.ci_proportion(math.floor(tab.observed[1] * tab.n[1] + 0.5), tab.n[1], "wilson")
  T.eq(tab.lo[1], lo); T.eq(tab.hi[1], hi)
  -- decision curve: the curves are sv.calib.dca's, bit for bit
  local th = {0, 0.05, 0.1, 0.3, 0.5, 0.9}
  local _, data = P.decision_curve({{name = "M", y = y, p = p}}, {thresholds = th})
  local ref = sv.calib.dca(yy, pp, {thresholds = th})
  for a = 1, #th do
    T.eq(data.net_benefit[1][a], ref.model[a]); T.eq(data.treat_all[a], ref.all[a])
  end
  T.eq(data.prevalence, ref.prevalence)
  -- SHAP: bars and swarm rows in sv.shap.importance's order, bars its values
  local phi = {}
  for i = 1, 40 do phi[i] = {r:normal(), 3 * r:normal(), 0.5 * r:normal(), r:normal()} end
  phi[1][4] = 10
  local imp = sv.shap.importance(phi)
  local bar = P.shap_bar(phi)
  k = 0
  for j, v in bar:gmatch('data%-index="(%d+)" data%-value="([^"]+)"') do
    k = k + 1
    T.eq(tonumber(j), imp[k].index); T.eq(tonumber(v), imp[k].value)
  end
  T.eq(k, 4)
  local X = {}
  for i = 1, 40 do X[i] = {i, -i, i % 3, i % 5} end
  local swarm = P.shap_beeswarm(phi, X, {names = {"a", "b", "c", "d"}})
  local order = {}
  for f in swarm:gmatch('class="swarm" data%-feature="([^"]+)"') do order[#order + 1] = f end
  local names = {"a", "b", "c", "d"}
  for a = 1, 4 do T.eq(order[a], names[imp[a].index]) end
end)

T.test("calibration bins: equal-size groups by predicted risk", function()
  local y = {0, 0, 1, 0, 1, 1}
  local p = {0.1, 0.2, 0.3, 0.6, 0.7, 0.8}
  local b = P.calibration_bins(y, p, 2)
  T.near(b.pred[1], 0.2, 1e-15); T.near(b.obs[1], 1 / 3, 1e-15)
  T.near(b.pred[2], 0.7, 1e-15); T.near(b.obs[2], 2 / 3, 1e-15)
  T.eq(b.n[1], 3)
  local svg = P.calibration({{name = "M", y = y, p = p}}, {bins = 2})
  well_formed(svg, "calibration")
  T.eq(count(svg, 'class="curve"'), 1)
  -- Brier = (0.01 + 0.04 + 0.49 + 0.36 + 0.09 + 0.04) / 6 = 0.171667
  T.ok(svg:find("M (Brier 0.172)", 1, true))
  T.ok(svg:find('class="histogram"'), "distribution of predictions")
end)

T.test("net benefit by hand and the decision curve", function()
  local y, p = {1, 0, 1, 0}, {0.9, 0.6, 0.4, 0.1}
  local nb = P.net_benefit(y, p, {0.5, 0.3})
  -- t = 0.5: TP 1, FP 1 -> 1/4 - 1/4 * 1 = 0
  T.near(nb[1], 0, 1e-15)
  -- t = 0.3: TP 2, FP 1 -> 2/4 - 1/4 * 0.3/0.7 = 0.392857
  T.near(nb[2], 0.5 - 0.25 * 0.3 / 0.7, 1e-15)
  local svg, data = P.decision_curve({{name = "M", y = y, p = p}})
  well_formed(svg, "decision")
  T.eq(count(svg, 'class="curve"'), 1)
  T.eq(count(svg, 'class="reference"'), 2)
  T.near(data.prevalence, 0.5, 1e-15)
  -- treat all at t: prev - (1 - prev) t / (1 - t)
  T.near(data.treat_all[1], 0.5 - 0.5 * data.thresholds[1] / (1 - data.thresholds[1]), 1e-15)
end)

T.test("ROC from labels and scores: curve and DeLong CI from sv.roc", function()
  local y = {0, 0, 1, 1, 0, 1, 0, 1}
  local s = {0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.7}
  local a = sv.roc.auc(y, s)
  -- Mann-Whitney by hand: case scores .35 .8 .9 .7 vs controls .1 .4 .2 .6:
  -- .35 beats 2, .8/.9/.7 beat 4 each -> 14 of 16 = 0.875
  T.near(a.auc, 0.875, 1e-15)
  local svg = P.roc({{name = "S", y = y, score = s}})
  well_formed(svg, "roc_ys")
  T.ok(svg:find(("S: AUC 0.875 (95%% CI %.3f\u{2013}%.3f)"):format(a.lo, a.hi), 1, true), "legend from sv.roc.auc")
end)

T.test("KM from raw data computes the log-rank p with sv.surv.logrank", function()
  local time = {1, 2, 3, 4, 5, 6, 2, 3, 5, 8, 9, 10}
  local event = {1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1}
  local group = {"A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B"}
  local lr = sv.surv.logrank(time, event, group)
  local svg = P.km({time = time, event = event, group = group})
  T.ok(svg:find("Log-rank p " .. P.format_p(lr.p), 1, true), "p from sv.surv.logrank")
  -- the drawn curve of group A reaches S = 0 at t = 6 (its last row is an event)
  local f = P._km_fit({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1})
  T.eq(f.surv[#f.surv], 0)
end)

T.test("unknown options and bad input are errors naming the function", function()
  T.raises(function() P.roc({c1}, {colour = "red"}) end, "unknown option 'colour' to plot.roc")
  T.raises(function() P.roc({}) end, "plot.roc")
  T.raises(function() P.km({}) end, "plot.km")
  T.raises(function() P.save(42, "x.svg") end, "plot.save")
end)

T.test("the same input gives the same SVG bytes", function()
  T.eq(sv.sha256(P.shap_beeswarm(phi, X)), sv.sha256(P.shap_beeswarm(phi, X)))
end)

T.done()
