-- bench_shap_k3.lua - TreeSHAP of a 3-class forest: sylva (sv.shap.tree
-- without `class`: the values of all three classes) against xgboost's
-- pred_contribs on the same trees, converted per class by
-- bench/shap_xgb_k3.py (three single-output boosters: the trees an xgboost
-- multiclass model walks). `make bench BENCH=shap_k3`.
-- Data: a study-like cohort of 12 integer features (exact in float32, so
-- xgboost routes every row as sylva does), the class from a multinomial
-- model. Times are seconds per 1,000 rows explained at 1 thread; the ratio
-- xgboost / sylva > 1 means sylva is faster.
-- Environment: SHAP_K3_TREES (200; the issue's size is 500), SHAP_K3_ROWS
-- (training rows, 2000), SHAP_K3_EXPLAIN (rows explained, 200; about a
-- minute on 2 cores).
local sv = require "sylva"

local TREES = tonumber(os.getenv("SHAP_K3_TREES")) or 200
local N = tonumber(os.getenv("SHAP_K3_ROWS")) or 2000
local NX = tonumber(os.getenv("SHAP_K3_EXPLAIN")) or 200
local PY = "/usr/bin/python3"
local dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local tmp = os.getenv("SYLVA_TMP") or "/tmp"
if os.execute(PY .. " -c 'import xgboost' 2>/dev/null") ~= true then
  print("skip: /usr/bin/python3 with xgboost not installed")
  return
end

local function cohort(n, seed)
  local names = {}
  for j = 1, 12 do names[j] = "f" .. j end
  local rows, y = {}, {}
  local r = sv.rng(seed, 1)
  for i = 1, n do
    local x = {math.floor(55 + 12 * r:normal() + 0.5), math.floor(22 * math.exp(0.5 * r:normal()) + 0.5)}
    for j = 3, 12 do x[j] = r:integer(0, 1 + j % 4) end
    local s1 = 0.04 * (x[1] - 55) + 0.5 * x[3] - 0.4 * x[4]
    local s2 = 0.03 * x[2] + 0.6 * x[5] * x[6] - 0.5
    local e1, e2 = math.exp(s1), math.exp(s2)
    local u = r:uniform() * (1 + e1 + e2)
    y[i] = u < 1 and "zero" or u < 1 + e1 and "low" or "positive"
    rows[i] = x
  end
  return sv.matrix(rows, names), y
end

local X, y = cohort(N, 31)
local Xe = cohort(NX, 32)
local f = sv.forest.train(X, y, {trees = TREES, seed = 1})
local fj, xc = tmp .. "/bench_shap_k3.json", tmp .. "/bench_shap_k3_X.csv"
f:export_json(fj)
local fh = assert(io.open(xc, "w"))
fh:write(table.concat(Xe:names(), ","), "\n")
for i = 1, NX do
  local r = {}
  for j = 1, Xe:ncol() do r[j] = ("%.17g"):format(Xe:get(i, j)) end
  fh:write(table.concat(r, ","), "\n")
end
fh:close()

local t0, c0 = sv.clock(), os.clock()
local phis = sv.shap.tree(f, Xe, {threads = 1})
local ts, cs = sv.clock() - t0, os.clock() - c0
assert(#phis == 3)
local p = io.popen(("%s %q/shap_xgb_k3.py %q %q %d 1"):format(PY, dir, fj, xc, NX))
local out = p:read("a")
p:close()
local tx = tonumber(out:match("contribs_k3 1 (%S+)"))
if not tx then error("xgboost run failed: " .. out) end
print(("3-class forest, %d trees, %d training rows, %d rows explained (all 3 classes), 1 thread"):format(
  TREES, N, NX))
print(("sylva   %.4f s per 1,000 rows (cpu %.4f)"):format(ts / NX * 1000, cs / NX * 1000))
print(("xgboost %.4f s per 1,000 rows"):format(tx / NX * 1000))
print(("RATIO xgboost/sylva %.2fx"):format(tx / ts))
