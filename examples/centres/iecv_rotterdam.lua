-- iecv_rotterdam.lua - internal-external cross-validation on the Rotterdam
-- tumour bank (R's survival::rotterdam, tests/fixtures/data) with the years
-- of surgery grouped into six pseudo-centres: a logistic model of
-- recurrence on age, nodes, grade and progesterone receptor, refitted with
-- each period left out; per-period AUC, O/E and calibration, pooled by
-- random-effects meta-analysis, and the forest plots of docs/centres.md.
--
--   build/sylva examples/centres/iecv_rotterdam.lua [outdir]   (default docs/img)
local sv = require "sylva"
local out = arg and arg[1] or "docs/img"
local d = sv.read_csv("tests/fixtures/data/rotterdam.csv")
local year = d:col("year")
local cuts = {1984, 1986, 1988, 1990, 1991, 1993}
local labels = {"1978-84", "1985-86", "1987-88", "1989-90", "1991", "1992-93"}
local centre = {}
for i = 1, #year do
  local c = 1
  while year[i] > cuts[c] do c = c + 1 end
  centre[i] = labels[c]
end
local X, y = d:matrix({"age", "nodes", "grade", "pgr"}), d:col("recur")
local function fit(rows)
  local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
  return function(r) return m:predict(X:rows(r)) end
end
local v = sv.centres.iecv(y, centre, fit)
for _, g in ipairs(v.groups) do
  print(("%-8s n %4d  AUC %.3f [%.3f, %.3f]  O/E %.2f  slope %.2f"):format(g.group, g.n, g.auc, g.auc_lo, g.auc_hi, g.oe, g.slope))
end
local a = v.pooled.auc
print(("pooled AUC %.3f [%.3f, %.3f], 95%% prediction interval %.3f to %.3f; tau2 %.4f, I2 %.0f%%"):format(
  a.auc, a.lo, a.hi, a.pi_lo, a.pi_hi, a.tau2, a.i2))
local o = v.pooled.oe
print(("pooled O/E %.2f [%.2f, %.2f], 95%% prediction interval %.2f to %.2f"):format(o.oe, o.lo, o.hi, o.pi_lo, o.pi_hi))
sv.plot.save(sv.centres.forest_plot(v, {title = "Rotterdam: AUC by period of surgery (IECV)", study_label = "Period"}),
  out .. "/centres_iecv_auc.png", {dpi = 150})
sv.plot.save(sv.centres.forest_plot(v, {measure = "oe", title = "Rotterdam: O/E by period of surgery (IECV)",
  study_label = "Period"}), out .. "/centres_iecv_oe.png", {dpi = 150})
