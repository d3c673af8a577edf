-- bench_multiclass.lua - sv.roc.multiclass (Hand & Till's M) against pROC's
-- multiclass.roc and scikit-learn's roc_auc_score(multi_class = "ovo") in
-- the same run:
--   1. M of SYLVA_BENCH_N rows (default 100,000), K = 3;
--   2. a bootstrap of M, SYLVA_BENCH_MC_BOOT replicates (default 100) on the
--      first SYLVA_BENCH_BOOT_N rows (default 10,000): pROC has no interval
--      for M, so the peer is a loop of multiclass.roc over the same kind of
--      class-stratified resamples.
-- Probabilities are a softmax of noisy class scores rounded to 4 decimals
-- (ties, as real predictions), written once to a CSV both peers read.
-- Ratios are peer time / sylva time (> 1: sylva faster).
--   make bench BENCH=multiclass
local sv = require "sylva"

local n = tonumber(os.getenv("SYLVA_BENCH_N") or "") or 100000
local nb = tonumber(os.getenv("SYLVA_BENCH_BOOT_N") or "") or 10000
local B = tonumber(os.getenv("SYLVA_BENCH_MC_BOOT") or "") or 100
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local path = ("%s/sylva_bench_multiclass_%d.csv"):format(dir, n)
local here = arg[0]:match("^(.*)/[^/]*$") or "."
if nb > n then nb = n end

local r = sv.rng(77)
local y, rows, buf = {}, {}, {"y,a,b,c"}
local labels = {"a", "b", "c"}
for i = 1, n do
  local k = r:integer(1, 3)
  local e = {}
  local s = 0
  for j = 1, 3 do
    e[j] = math.exp((j == k and 1 or 0) + r:normal(0, 1))
    s = s + e[j]
  end
  local p = {}
  for j = 1, 2 do p[j] = tonumber(("%.4f"):format(e[j] / s)) end
  p[3] = math.abs(tonumber(("%.4f"):format(1 - p[1] - p[2])))  -- rows sum to 1 (sklearn checks)
  y[i], rows[i] = labels[k], p
  buf[#buf + 1] = ("%s,%.4f,%.4f,%.4f"):format(labels[k], p[1], p[2], p[3])
end
local f = assert(io.open(path, "wb"))
f:write(table.concat(buf, "\n"), "\n")
f:close()
buf = nil
local P = sv.matrix(rows, labels)
local yb, rb = {}, {}
for i = 1, nb do yb[i], rb[i] = y[i], rows[i] end
local Pb = sv.matrix(rb, labels)
rows, rb = nil, nil
collectgarbage()
sv.progress(false)

local function best(fn, times)
  local t, out = math.huge, nil
  for _ = 1, times or 3 do
    collectgarbage()
    local t0 = sv.clock()
    out = fn()
    t = math.min(t, sv.clock() - t0)
  end
  return t, out
end

local t1, m = best(function() return sv.roc.multiclass(y, P, {ci = "none"}) end)
print(("%-36s %8.4f s  M %.10f  (n = %d, best of 3)"):format("sylva multiclass M", t1, m.auc, n))
local t2, mb = best(function() return sv.roc.multiclass(yb, Pb, {boot = B, seed = 1}) end)
print(("%-36s %8.4f s  CI [%.6f, %.6f]  (n = %d, %d replicates, all cores)"):format(
  "sylva bootstrap of M", t2, mb.lo, mb.hi, nb, B))
local t2s = best(function() return sv.roc.multiclass(yb, Pb, {boot = B, seed = 1, threads = 1}) end)
print(("%-36s %8.4f s"):format("sylva bootstrap of M (1 thread)", t2s))

local p = io.popen(("Rscript %q %q %d %d 2>/dev/null"):format(here .. "/multiclass_r.R", path, nb, B))
local out = p and p:read("a") or ""
if p then p:close() end
local rt1, rm = out:match("M%s+(%S+)%s+(%S+)")
local rt2, rlo, rhi = out:match("boot%s+(%S+)%s+(%S+)%s+(%S+)")
if not rt1 then
  print("pROC                                 skipped (R or pROC not installed, or failed)")
else
  rt1, rt2 = tonumber(rt1), tonumber(rt2)
  print(("%-36s %8.4f s  M %.10f  |diff| %.2g"):format("pROC multiclass.roc", rt1, tonumber(rm),
    math.abs(tonumber(rm) - m.auc)))
  print(("%-36s %8.4f s  CI [%.6f, %.6f]"):format("pROC loop of multiclass.roc", rt2,
    tonumber(rlo), tonumber(rhi)))
  print(("ratio pROC/sylva  M (n = %d): %.1fx"):format(n, rt1 / t1))
  print(("ratio pROC/sylva  bootstrap of M (n = %d, %d reps): %.1fx (%.1fx on 1 thread)"):format(
    nb, B, rt2 / t2, rt2 / t2s))
end
local py = io.popen(([==[/usr/bin/python3 - %q <<'PYEOF'
import sys, time
import numpy as np
from sklearn.metrics import roc_auc_score
d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1, dtype=None, encoding=None)
y = np.array([r[0] for r in d]); P = np.array([[r[1], r[2], r[3]] for r in d])
best = 1e9
for _ in range(3):
    t0 = time.perf_counter(); m = roc_auc_score(y, P, multi_class="ovo"); best = min(best, time.perf_counter() - t0)
print("ovo", best, repr(m))
PYEOF
]==]):format(path))
local pout = py and py:read("a") or ""
if py then py:close() end
local st, sm = pout:match("ovo%s+(%S+)%s+(%S+)")
if not st then
  print("scikit-learn                         skipped (python3 or sklearn not installed)")
else
  print(("%-36s %8.4f s  M %.10f  |diff| %.2g"):format("sklearn roc_auc_score(ovo)", tonumber(st),
    tonumber(sm), math.abs(tonumber(sm) - m.auc)))
  print(("ratio sklearn/sylva  M (n = %d): %.1fx"):format(n, tonumber(st) / t1))
end
os.remove(path)
