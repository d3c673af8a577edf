-- sv.select: SHAP ranking and forward selection by CV AUC.
local T = require "testing"
local sv = require "sylva"

T.test("stop rules on a hand-made curve", function()
  local curve = {{mean = 0.70, se = 0.02}, {mean = 0.78, se = 0.02}, {mean = 0.80, se = 0.02},
                 {mean = 0.803, se = 0.02}, {mean = 0.81, se = 0.015}}
  -- tol 0.005: steps +0.08, +0.02, +0.003 (stop) -> 3 features
  T.eq(sv.select.choose(curve, "tol", 0.005), 3)
  -- tol 0.03: +0.02 is not enough -> 2 features
  T.eq(sv.select.choose(curve, "tol", 0.03), 2)
  -- every step improves by more than 0 -> all 5
  T.eq(sv.select.choose(curve, "tol", 0), 5)
  -- 1se: best 0.81 (k = 5), bound 0.81 - 0.015 = 0.795 -> smallest k with mean >= 0.795 is 3
  T.eq(sv.select.choose(curve, "1se", 0), 3)
end)

-- Synthetic data: y depends on a and b only; c, d, e are noise.
local r = sv.rng(99)
local rows, y = {}, {}
for i = 1, 400 do
  local a, b = r:normal(), r:normal()
  rows[i] = {a, b, r:normal(), r:normal(), r:normal()}
  y[i] = (a + 0.8 * b + 0.5 * r:normal() > 0) and 1 or 0
end
local X = sv.matrix(rows, {"a", "b", "c", "d", "e"})

T.test("SHAP ranking on training data puts the informative features first", function()
  local ranking, phi, base, f = sv.select.shap_rank(X, y, {forest = {trees = 60}, seed = 3})
  T.eq(#ranking, 5)
  local top = {[ranking[1].name] = true, [ranking[2].name] = true}
  T.ok(top.a and top.b, "a and b first: " .. ranking[1].name .. ", " .. ranking[2].name)
  T.ok(ranking[1].value >= ranking[2].value and ranking[2].value >= ranking[3].value, "sorted")
  -- additivity of the SHAP values used for the ranking
  local p = f:predict(X)
  local s = base
  for j = 1, 5 do s = s + phi:get(1, j) end
  T.near(s, p[1], 1e-12)
end)

T.test("forward selection along the ranking: curve, chosen size, selected names", function()
  local sel = sv.select.forward(X, y, {forest = {trees = 60}, k = 3, seed = 3, tol = 0.005, progress = false})
  T.eq(#sel.curve, 5)
  T.eq(sel.k, sv.select.choose(sel.curve, "tol", 0.005))
  T.eq(#sel.selected, sel.k)
  for a = 1, sel.k do T.eq(sel.selected[a], sel.order[a]) end
  T.ok(sel.k >= 2, "at least the two informative features")
  -- the second feature helps a lot: b carries signal on top of a
  T.ok(sel.curve[2].mean > sel.curve[1].mean + 0.02, "adding the second informative feature improves CV AUC")
  T.eq(sel.curve[3].features[3], sel.order[3])
  T.eq(#sel.table.rows, 5)
  local svg = sv.plot.cv_curve(sel)
  T.ok(svg:find('class="chosen"', 1, true), "chosen size marked")
end)

T.test("a given ranking (names) is followed; the 1-SE rule picks no more than the best", function()
  local sel = sv.select.forward(X, y, {ranking = {"c", "a", "b"}, forest = {trees = 40}, k = 3, seed = 1,
                                       rule = "1se", progress = false})
  T.eq(#sel.curve, 3)
  T.eq(sel.curve[1].features[1], "c")
  local best = 1
  for k = 2, 3 do if sel.curve[k].mean > sel.curve[best].mean then best = k end end
  T.ok(sel.k <= best)
  T.ok(sel.curve[sel.k].mean >= sel.curve[best].mean - sel.curve[best].se)
end)

T.test("stop_early ends the curve at the first step that does not improve by tol", function()
  local sel = sv.select.forward(X, y, {ranking = {"a", "c", "d", "b"}, forest = {trees = 30}, k = 3, seed = 2,
                                       tol = 0.5, stop_early = true, progress = false})
  -- no step improves the CV AUC by 0.5: stop after the second size, keep one feature
  T.eq(#sel.curve, 2)
  T.eq(sel.k, 1)
  T.eq(sel.selected[1], "a")
end)

T.test("with rule tol, stop_early selects what the full curve selects (the study's pipeline relies on it)", function()
  local order = {"a", "c", "b", "d", "e"}
  local stopped = 0
  for _, tol in ipairs({0, 0.002, 0.01, 0.05, 0.5}) do
    local o = {ranking = order, forest = {trees = 20}, k = 3, seed = 4, tol = tol, progress = false}
    o.stop_early = false
    local full = sv.select.forward(X, y, o)
    o.stop_early = true
    local early = sv.select.forward(X, y, o)
    T.eq(early.k, full.k, "tol " .. tol)
    T.eq(table.concat(early.selected, ","), table.concat(full.selected, ","), "tol " .. tol)
    for k = 1, #early.curve do T.eq(early.curve[k].mean, full.curve[k].mean) end
    if #early.curve < #full.curve then stopped = stopped + 1 end
  end
  T.ok(stopped >= 2, "some tolerances stop before the end of the curve")
end)

T.test("bad options are errors naming the function", function()
  T.raises(function() sv.select.forward(X, y, {rul = "1se"}) end, "unknown option 'rul' to select.forward")
  T.raises(function() sv.select.forward(X, y, {rule = "aic", ranking = {"a"}}) end, "bad option 'rule'")
  T.raises(function() sv.select.forward(X, y, {ranking = {"zz"}}) end, "'zz' is not a column of X")
  T.raises(function() sv.select.forward(sv.matrix({{1}, {2}}), {0, 1}, {ranking = {"a"}}) end, "needs column names")
end)

T.done()
