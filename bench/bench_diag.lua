-- bench_diag.lua - sv.roc against pROC in the same run:
--   1. AUC with its DeLong 95% CI on SYLVA_BENCH_N scores (default 1,000,000);
--   2. a 2,000-replicate stratified bootstrap CI on the first
--      SYLVA_BENCH_BOOT_N of them (default 10,000).
-- Scores are a noisy function of a 30%-prevalence outcome, rounded to 4
-- decimals (so there are ties, as in real scores), written once to a CSV
-- that both sides read. Ratios are pROC time / sylva time (> 1: faster).
--   make bench BENCH=diag
local sv = require "sylva"

local n = tonumber(os.getenv("SYLVA_BENCH_N") or "") or 1000000
local nb = tonumber(os.getenv("SYLVA_BENCH_BOOT_N") or "") or 10000
local repeat_n = tonumber(os.getenv("SYLVA_BENCH_REPEAT") or "") or 3
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local path = ("%s/sylva_bench_diag_%d.csv"):format(dir, n)
local here = arg[0]:match("^(.*)/[^/]*$") or "."
if nb > n then nb = n end

-- data (fixed seed) and the CSV the peer reads
local r = sv.rng(2024)
local y, s = {}, {}
local buf = {"y,score"}
for i = 1, n do
  local yi = r:uniform() < 0.3 and 1 or 0
  local si = tonumber(("%.4f"):format(yi + r:normal(0, 1.5)))
  y[i], s[i] = yi, si
  buf[#buf + 1] = ("%d,%.4f"):format(yi, si)
end
local f = assert(io.open(path, "wb"))
f:write(table.concat(buf, "\n"), "\n")
f:close()
buf = nil
local yv, sv_ = sv.vector(y), sv.vector(s)
local yb, sb = {}, {}
for i = 1, nb do yb[i], sb[i] = y[i], s[i] end
y, s = nil, nil
collectgarbage()
sv.progress(false)

local function best(fn)
  local t, out = math.huge, nil
  for _ = 1, repeat_n do
    collectgarbage()
    local t0 = sv.clock()
    out = fn()
    t = math.min(t, sv.clock() - t0)
  end
  return t, out
end

local t1, a = best(function() return sv.roc.auc(yv, sv_) end)
print(("%-34s %8.4f s  auc %.6f  CI [%.6f, %.6f]  (n = %d, best of %d)"):format(
  "sylva auc + DeLong CI", t1, a.auc, a.lo, a.hi, n, repeat_n))
local t2, b = best(function()
  return sv.roc.auc(yb, sb, {ci = "bootstrap", boot = 2000, seed = 1})
end)
print(("%-34s %8.4f s  CI [%.6f, %.6f]  (n = %d, 2000 replicates, all cores)"):format(
  "sylva bootstrap CI", t2, b.lo, b.hi, nb))
local t2s = best(function()
  return sv.roc.auc(yb, sb, {ci = "bootstrap", boot = 2000, seed = 1, threads = 1})
end)
print(("%-34s %8.4f s"):format("sylva bootstrap CI (1 thread)", t2s))

local p = io.popen(("Rscript %q %q %d 2>/dev/null"):format(here .. "/diag_r.R", path, nb))
local out = p and p:read("a") or ""
if p then p:close() end
local rt1, rauc, rlo, rhi = out:match("delong%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)")
local rt2, rblo, rbhi = out:match("boot%s+(%S+)%s+(%S+)%s+(%S+)")
if not rt1 or not rt2 then
  print("pROC                               skipped (R or pROC not installed, or failed)")
else
  rt1, rt2 = tonumber(rt1), tonumber(rt2)
  print(("%-34s %8.4f s  auc %.6f  CI [%.6f, %.6f]"):format("pROC roc + ci.auc(delong)", rt1,
    tonumber(rauc), tonumber(rlo), tonumber(rhi)))
  print(("%-34s %8.4f s  CI [%.6f, %.6f]"):format("pROC ci.auc(bootstrap, 2000)", rt2,
    tonumber(rblo), tonumber(rbhi)))
  print(("agreement: |auc diff| %.2g, |lo diff| %.2g, |hi diff| %.2g"):format(
    math.abs(a.auc - tonumber(rauc)), math.abs(a.lo - tonumber(rlo)), math.abs(a.hi - tonumber(rhi))))
  print(("ratio pROC/sylva  AUC + DeLong CI (n = %d): %.1fx"):format(n, rt1 / t1))
  print(("ratio pROC/sylva  bootstrap CI (n = %d, 2000 reps): %.1fx (%.1fx on 1 thread)"):format(
    nb, rt2 / t2, rt2 / t2s))
end
os.remove(path)
