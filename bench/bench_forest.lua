-- bench_forest.lua - sv.forest against ranger and scikit-learn, side by
-- side in one run (`make bench BENCH=forest`).
--
-- Training 500 trees (mtry = floor(sqrt(p)), min_leaf 1, probability
-- forests) on
--   (a) a 678 x 20 cohort of mostly 2-6-level features (+ 678 test rows),
--   (b) 100,000 x 50, half 2-6-level, half continuous features (+ 20,000
--       test rows); SYLVA_BENCH_LARGE=0 shrinks it to 10,000 (+ 5,000),
--   (c) the Wisconsin data (rows i % 3 == 0 held out, as in the tests),
-- at 1 and 2 threads. Each tool runs in its own child process
-- (bench/forest_sylva.lua, forest_ranger.R, forest_sklearn.py) under
-- /usr/bin/time, which gives the peak RSS; the same script run in "load"
-- mode (read the data, stop) gives the baseline RSS of the interpreter and
-- data, subtracted in the "dRSS" column. Reported: train and predict wall
-- time, train CPU time (all threads; robust when the machine is shared),
-- test AUC, and sylva's ratios. Run time on 2 cores: about 5 minutes with
-- SYLVA_BENCH_LARGE=0; the default 100,000-row set adds about 30 minutes,
-- nearly all of it ranger and scikit-learn (about 1 s and 0.65 s of CPU per
-- tree there, against 0.17 s for sylva). Environment:
--   SYLVA_BENCH_LARGE=0   small (b)
--   SYLVA_BENCH_TREES=N   trees (default 500)
--   SYLVA_BENCH_SETS=a,c  only some data sets
local sv = require "sylva"

local bin = arg[-1] or "sylva"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local large = os.getenv("SYLVA_BENCH_LARGE") ~= "0"
local trees = tonumber(os.getenv("SYLVA_BENCH_TREES") or "500")
local sets_env = os.getenv("SYLVA_BENCH_SETS")
local tmp = (os.getenv("SYLVA_TMP") or "/tmp") .. "/bench_forest"
os.execute(("mkdir -p %q"):format(tmp))

local function have(cmd)
  return os.execute(cmd .. " >/dev/null 2>&1") == true
end
local has_time = have("test -x /usr/bin/time")
local has_r = have("Rscript -e 'library(ranger)'")
local has_py = have("/usr/bin/python3 -c 'import sklearn, pandas'")
if not has_time then print("skip: /usr/bin/time missing (apt-get install time); no RSS") end
if not has_r then print("skip ranger: Rscript with r-cran-ranger not installed") end
if not has_py then print("skip scikit-learn: /usr/bin/python3 with sklearn and pandas not installed") end

-- ---- data sets ------------------------------------------------------------

local function write_csv(path, rows, y)
  local p = #rows[1]
  local names = {}
  for j = 1, p do names[j] = "V" .. j end
  names[p + 1] = "y"
  local full = {}
  for i, r in ipairs(rows) do
    local t = {table.unpack(r)}
    t[p + 1] = y[i]
    full[i] = t
  end
  sv.frame(sv.matrix(full, names)):write_csv(path)
end

-- (a) a cohort: 16 ordinal features with 2-6 levels (BI-RADS-like), 2
-- binary, age (integer years) and a size in mm; outcome from a logistic
-- model with an interaction.
local function cohort(r, n)
  local rows, y = {}, {}
  for i = 1, n do
    local x = {}
    for j = 1, 16 do x[j] = r:integer(0, 1 + (j % 5)) end
    x[17], x[18] = r:integer(0, 1), r:integer(0, 1)
    x[19] = math.floor(55 + 12 * r:normal() + 0.5)
    x[20] = math.max(1, math.floor(20 + 10 * r:normal() + 0.5))
    local s = -2.2 + 0.7 * x[1] + 0.5 * x[2] - 0.4 * x[3] + 0.9 * x[17] + 0.03 * (x[19] - 55)
              + 0.04 * x[20] + 0.3 * x[4] * x[18]
    y[i] = r:uniform() < 1 / (1 + math.exp(-s)) and 1 or 0
    rows[i] = x
  end
  return rows, y
end

-- (b) half 2-6-level, half continuous (standard normal) features.
local function mixed(r, n)
  local rows, y = {}, {}
  for i = 1, n do
    local x = {}
    for j = 1, 25 do x[j] = r:integer(0, 1 + (j % 5)) end
    for j = 26, 50 do x[j] = r:normal() end
    local s = 0.6 * x[1] - 0.5 * x[2] + 0.4 * x[3] + 0.8 * x[26] - 0.6 * x[27] + 0.5 * x[28] * x[4] - 0.3
    y[i] = r:uniform() < 1 / (1 + math.exp(-s)) and 1 or 0
    rows[i] = x
  end
  return rows, y
end

local function wdbc()
  local root = here .. "/.."
  local d = sv.read_csv(root .. "/tests/fixtures/data/wdbc.csv")
  local names = d:names()
  local feats = {}
  for k = 1, #names - 1 do feats[k] = names[k] end
  local X, yv = d:matrix(feats), d:col("malignant")
  local tr, trY, te, teY = {}, {}, {}, {}
  for i = 1, X:nrow() do
    local row = X:row(i):totable()
    if i % 3 == 0 then te[#te + 1], teY[#teY + 1] = row, yv[i]
    else tr[#tr + 1], trY[#trY + 1] = row, yv[i] end
  end
  return tr, trY, te, teY
end

local sets = {}
local function want(k)
  if not sets_env or sets_env == "" then return true end
  for s in sets_env:gmatch("[^,%s]+") do if s == k then return true end end
  return false
end
if want("a") then
  local r1, r2 = sv.rng(2024, 1), sv.rng(2024, 2)
  local Xa, ya = cohort(r1, 678)
  local Ta, ta = cohort(r2, 678)
  sets[#sets + 1] = {"a", "cohort 678 x 20 (2-6 levels)", Xa, ya, Ta, ta}
end
if want("b") then
  local nb, nt = large and 100000 or 10000, large and 20000 or 5000
  local Xb, yb = mixed(sv.rng(2024, 3), nb)
  local Tb, tb = mixed(sv.rng(2024, 4), nt)
  sets[#sets + 1] = {"b", ("mixed %d x 50 (half 2-6 levels)"):format(nb), Xb, yb, Tb, tb}
end
if want("c") then
  local Xc, yc, Tc, tc = wdbc()
  sets[#sets + 1] = {"c", "wdbc 380 x 30 (continuous)", Xc, yc, Tc, tc}
end

-- ---- running the tools ------------------------------------------------------

local function run(cmd)
  local out, rss = tmp .. "/out.txt", tmp .. "/rss.txt"
  local full = has_time and ("/usr/bin/time -f %%M -o %q %s > %q 2>/dev/null"):format(rss, cmd, out)
                        or ("%s > %q 2>/dev/null"):format(cmd, out)
  local ok = os.execute(full)
  local res
  for line in io.lines(out) do
    local a, b, c, d, e = line:match("^RESULT (%S+) (%S+) (%S+) (%S+) (%S+)")
    if a then res = {train = tonumber(a), train_cpu = tonumber(b), predict = tonumber(c),
                     predict_cpu = tonumber(d), auc = tonumber(e)} end
  end
  if not ok or not res then return nil end
  if has_time then
    local fh = io.open(rss)
    res.rss = fh and tonumber(fh:read("l"):match("(%d+)%s*$")) or nil
    if fh then fh:close() end
  end
  return res
end

local tools = {
  {"sylva", function(a) return ("%q %q/forest_sylva.lua %s"):format(bin, here, a) end, true},
  {"ranger", function(a) return ("Rscript %q/forest_ranger.R %s"):format(here, a) end, has_r},
  {"sklearn", function(a) return ("/usr/bin/python3 %q/forest_sklearn.py %s"):format(here, a) end, has_py},
}

local function mb(kb) return kb and ("%7.1f"):format(kb / 1024) or "      -" end

print(("trees %d, mtry sqrt, min_leaf 1; times in seconds, RSS in MB (dRSS = peak - baseline after loading the data)"):format(trees))
for _, s in ipairs(sets) do
  local key, label, X, y, T, t = table.unpack(s)
  local trp, tep = ("%s/%s_train.csv"):format(tmp, key), ("%s/%s_test.csv"):format(tmp, key)
  write_csv(trp, X, y)
  write_csv(tep, T, t)
  print(("\n(%s) %s, test %d rows"):format(key, label, #T))
  print(("%-8s %3s %9s %9s %9s %9s %7s %8s %8s"):format("tool", "thr", "train", "train_cpu", "predict", "pred_cpu", "AUC", "RSS", "dRSS"))
  local base = {}
  for _, tool in ipairs(tools) do
    if tool[3] then
      local b = run(tool[2](("%q %q 1 %d load"):format(trp, tep, trees)))
      base[tool[1]] = b and b.rss
    end
  end
  for _, thr in ipairs({1, 2}) do
    local res = {}
    for _, tool in ipairs(tools) do
      if tool[3] then
        local r = run(tool[2](("%q %q %d %d run"):format(trp, tep, thr, trees)))
        res[tool[1]] = r
        if r then
          local d = r.rss and base[tool[1]] and (r.rss - base[tool[1]]) or nil
          print(("%-8s %3d %9.3f %9.3f %9.3f %9.3f %7.4f %s %s"):format(tool[1], thr, r.train, r.train_cpu,
                r.predict, r.predict_cpu, r.auc, mb(r.rss), mb(d)))
        else
          print(("%-8s %3d failed"):format(tool[1], thr))
        end
      end
    end
    local me = res.sylva
    for _, peer in ipairs({"ranger", "sklearn"}) do
      local o = res[peer]
      if me and o then
        local dm = me.rss and base.sylva and me.rss - base.sylva
        local dp = o.rss and base[peer] and o.rss - base[peer]
        print(("  %s/sylva at %d thread%s: train %.2fx (cpu %.2fx), predict %.2fx (cpu %.2fx), dRSS %s, AUC %+.4f"):format(
          peer, thr, thr > 1 and "s" or "", o.train / me.train, o.train_cpu / me.train_cpu,
          o.predict / me.predict, o.predict_cpu / me.predict_cpu, (dm and dp and dm > 0) and ("%.2fx"):format(dp / dm) or "-",
          me.auc - o.auc))
      end
    end
  end
end
