-- bench_shap.lua - TreeSHAP: sylva against xgboost's TreeSHAP
-- (pred_contribs, pred_interactions) on the same forest, converted by
-- tests/oracle/shap_xgboost.py, and against sylva's own Algorithm 2.
--
-- Two 500-tree forests of unlimited depth: one trained on 678 rows (the
-- size of the study) and one on 20,000 rows, both on a synthetic cohort of
-- 18 study-like features (integers and a 1/64 grid, exact in float32 so
-- xgboost routes every row as sylva does). Times are seconds per 1,000
-- rows explained, at 1 and 2 threads; ratios > 1 mean sylva is faster.
--
-- Environment: SHAP_BENCH_TREES (500), SHAP_BENCH_BIG (20000 rows),
-- SHAP_BENCH_XGB_INTER (rows xgboost's interactions explain on the study
-- forest, 40; it is ~40x slower than its values).
local sv = require "sylva"

local TREES = tonumber(os.getenv("SHAP_BENCH_TREES")) or 500
local BIG = tonumber(os.getenv("SHAP_BENCH_BIG")) or 20000
local XGB_INTER = tonumber(os.getenv("SHAP_BENCH_XGB_INTER")) or 40
local PY = "/usr/bin/python3"
local dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local tmp = os.getenv("SYLVA_TMP") or "/tmp"

local function have_xgboost()
  local ok = os.execute(PY .. " -c 'import xgboost' 2>/dev/null")
  return ok == true or ok == 0
end

-- A study-like cohort: age, size, ordinal scores, binary findings, an ADC
-- value on a 1/64 grid, a few noise features; outcome from a logistic model.
local function cohort(n, seed)
  local names = {"age", "menopause", "size_mm", "fgt", "bpe", "nme", "shape", "margin",
                 "enhancement", "tic", "t2", "adc", "edema", "multifocal", "aln", "skin",
                 "noise1", "noise2"}
  local rows, y = {}, {}
  for i = 1, n do
    local r = sv.rng(seed, i)
    local age = math.floor(53 + 11 * r:normal() + 0.5)
    local size = math.floor(22 * math.exp(0.5 * r:normal()) + 0.5)
    local x = {age, age > 50 and 1 or 0, size, r:integer(0, 3), r:integer(0, 3),
               r:uniform() < 0.17 and 1 or 0, r:integer(0, 2), r:integer(0, 2), r:integer(0, 2),
               r:integer(1, 3), r:integer(0, 2), math.floor(64 * (0.8 + 0.4 * r:uniform())) / 64,
               r:uniform() < 0.4 and 1 or 0, r:uniform() < 0.2 and 1 or 0,
               r:uniform() < 0.35 and 1 or 0, r:uniform() < 0.05 and 1 or 0,
               r:integer(0, 9), math.floor(64 * r:uniform()) / 64}
    local lin = -1.2 + 0.03 * (size - 22) + 0.6 * x[13] + 0.5 * x[15] - 2.0 * (x[12] - 1.0) +
                0.4 * (x[10] - 2) + 0.3 * x[6] - 0.02 * (age - 53)
    rows[i] = x
    y[i] = r:uniform() < 1 / (1 + math.exp(-lin)) and 1 or 0
  end
  return sv.matrix(rows, names), y
end

local function write_X(path, X, n)
  local fh = assert(io.open(path, "w"))
  fh:write(table.concat(X:names(), ","), "\n")
  for i = 1, n do
    local r = {}
    for j = 1, X:ncol() do r[j] = ("%.17g"):format(X:get(i, j)) end
    fh:write(table.concat(r, ","), "\n")
  end
  fh:close()
end

local function head(X, n)
  local rows = {}
  for i = 1, n do
    local r = {}
    for j = 1, X:ncol() do r[j] = X:get(i, j) end
    rows[i] = r
  end
  return sv.matrix(rows, X:names())
end

local function timed(fn)
  local t0 = sv.clock()
  fn()
  return sv.clock() - t0
end

local function forest_stats(f)
  local leaves, depth = 0, 0
  for k = 1, f:ntrees() do
    local t = f:tree(k)
    local dep = {[0] = 0}
    for n = 0, #t.feature - 1 do
      if t.left[n + 1] >= 0 then
        dep[t.left[n + 1]] = dep[n] + 1
        dep[t.right[n + 1]] = dep[n] + 1
        depth = math.max(depth, dep[n] + 1)
      else
        leaves = leaves + 1
      end
    end
  end
  return leaves / f:ntrees(), depth
end

local function bench(label, n_train, rows)
  print(("-- %s: %d trees trained on %d rows"):format(label, TREES, n_train))
  local X, y = cohort(n_train, 20260101 + n_train)
  local f
  local tt = timed(function() f = sv.forest.train(X, y, {trees = TREES, seed = 1}) end)
  local leaves, depth = forest_stats(f)
  print(("   trained in %.1f s; %.0f leaves per tree, max depth %d, %d features"):format(
    tt, leaves, depth, X:ncol()))
  local res = {}
  for _, threads in ipairs({1, 2}) do
    local r = {}
    local Xv = head(X, rows.values)
    r.linear = timed(function() sv.shap.tree(f, Xv, {threads = threads}) end) / rows.values * 1000
    local Xr = head(X, rows.reference)
    r.reference = timed(function() sv.shap.tree(f, Xr, {threads = threads, algorithm = "reference"}) end)
                  / rows.reference * 1000
    local Xi = head(X, rows.inter)
    r.inter = timed(function() sv.shap.interactions(f, Xi, {threads = threads}) end) / rows.inter * 1000
    res[threads] = r
  end
  if have_xgboost() then
    local fj, xc = tmp .. "/bench_shap_forest.json", tmp .. "/bench_shap_X.csv"
    f:export_json(fj)
    write_X(xc, X, math.max(rows.xgb_values, rows.xgb_inter))
    local cmd = ("%s %q %q %q %d %d 1 2"):format(PY, dir .. "/shap_xgb.py", fj, xc, rows.xgb_values,
                                                 rows.xgb_inter)
    local p = assert(io.popen(cmd))
    for line in p:lines() do
      local what, th, sec, n = line:match("^(%a+) (%d+) ([%d.]+) (%d+)$")
      if what then
        local key = what == "contribs" and "xgb_values" or "xgb_inter"
        res[tonumber(th)][key] = tonumber(sec) / tonumber(n) * 1000
      else
        print("   xgboost: " .. line)
      end
    end
    p:close()
    os.remove(fj)
    os.remove(xc)
  else
    print("   xgboost (python3-xgboost) not installed: peer skipped")
  end
  print(("   seconds per 1,000 rows (rows timed: sylva %d values / %d reference / %d interactions; "
         .. "xgboost %d values / %d interactions)"):format(rows.values, rows.reference, rows.inter,
                                                          rows.xgb_values, rows.xgb_inter))
  print("   threads  sylva-linear  sylva-ref(Alg.2)  xgb-contribs  ratio-vs-xgb  ratio-vs-ref"
        .. "  sylva-inter  xgb-inter  ratio-inter")
  for _, th in ipairs({1, 2}) do
    local r = res[th]
    local function fmt(v) return v and ("%.3f"):format(v) or "-" end
    local function ratio(a, b) return (a and b) and ("%.1fx"):format(a / b) or "-" end
    print(("   %7d  %12s  %16s  %12s  %12s  %12s  %11s  %9s  %11s"):format(th, fmt(r.linear),
          fmt(r.reference), fmt(r.xgb_values), ratio(r.xgb_values, r.linear),
          ratio(r.reference, r.linear), fmt(r.inter), fmt(r.xgb_inter), ratio(r.xgb_inter, r.inter)))
  end
  f:close()
end

bench("study-size forest", 678, {values = 678, reference = 200, inter = 678, xgb_values = 678,
                                 xgb_inter = XGB_INTER})
bench("large forest", BIG, {values = 50, reference = 10, inter = 10, xgb_values = 10,
                            xgb_inter = 1})
