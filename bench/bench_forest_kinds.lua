-- bench_forest_kinds.lua - the multiclass (K = 3) and regression forests
-- against ranger and scikit-learn, side by side in one run
-- (`make bench BENCH=forest_kinds`). Each tool runs in its own child
-- process (bench/forest_sylva.lua, forest_ranger.R, forest_sklearn.py in
-- mode "k3" or "reg") under /usr/bin/time for the peak RSS; the same
-- scripts in "load" mode give the baseline RSS (dRSS = peak - baseline).
-- Data: n x 50, features 1-25 with 2-6 levels, 26-50 standard normal;
--   k3:  y in {0, 1, 2} from a multinomial logit of a few features;
--   reg: y = a few features, an interaction and N(0, 1) noise.
-- All tools: mtry floor(sqrt(p)) = 7, min leaf 1, probability forests /
-- mean leaves. Reported: train and predict wall and CPU time, test score
-- (Hand-Till M, R^2), RSS, and the peers' time / sylva's time.
-- Environment:
--   SYLVA_BENCH_LARGE=1   100,000 training rows (+ 20,000 test), 500 trees
--                         (default: 10,000 (+ 5,000) and 100 trees)
--   SYLVA_BENCH_THREADS   thread counts, e.g. "1,2" (default "1")
--   SYLVA_BENCH_KINDS     which parts, e.g. "k3" (default "k3,reg")
local sv = require "sylva"

local bin = arg[-1] or "sylva"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local large = os.getenv("SYLVA_BENCH_LARGE") == "1"
local trees = large and 500 or 100
local nb, nt = large and 100000 or 10000, large and 20000 or 5000
local thr_list = {}
for t in (os.getenv("SYLVA_BENCH_THREADS") or "1"):gmatch("%d+") do thr_list[#thr_list + 1] = tonumber(t) end
local tmp = (os.getenv("SYLVA_TMP") or "/tmp") .. "/bench_forest_kinds"
os.execute(("mkdir -p %q"):format(tmp))

local function have(cmd) return os.execute(cmd .. " >/dev/null 2>&1") == true end
local has_time = have("test -x /usr/bin/time")
local has_r = have("Rscript -e 'library(ranger)'")
local has_py = have("/usr/bin/python3 -c 'import sklearn, pandas'")
if not has_r then print("skip ranger: Rscript with r-cran-ranger not installed") end
if not has_py then print("skip scikit-learn: /usr/bin/python3 with sklearn and pandas not installed") end

local function data(r, n, kind)
  local rows, y = {}, {}
  for i = 1, n do
    local x = {}
    for j = 1, 25 do x[j] = r:integer(0, 1 + (j % 5)) end
    for j = 26, 50 do x[j] = r:normal() end
    if kind == "k3" then
      local s1 = 0.6 * x[1] - 0.5 * x[2] + 0.8 * x[26]
      local s2 = 0.4 * x[3] - 0.6 * x[27] + 0.5 * x[28] * x[4]
      local e0, e1, e2 = 1, math.exp(s1), math.exp(s2)
      local u = r:uniform() * (e0 + e1 + e2)
      y[i] = u < e0 and 0 or u < e0 + e1 and 1 or 2
    else
      y[i] = 0.6 * x[1] - 0.5 * x[2] + 0.4 * x[3] + 0.8 * x[26] - 0.6 * x[27] + 0.5 * x[28] * x[4] + r:normal()
    end
    rows[i] = x
  end
  return rows, y
end

local function write_csv(path, rows, y)
  local names = {}
  for j = 1, #rows[1] do names[j] = "V" .. j end
  names[#names + 1] = "y"
  local full = {}
  for i, r in ipairs(rows) do
    local t = {table.unpack(r)}
    t[#t + 1] = y[i]
    full[i] = t
  end
  sv.frame(sv.matrix(full, names)):write_csv(path)
end

local function run(cmd)
  local out, rss = tmp .. "/out.txt", tmp .. "/rss.txt"
  local full = has_time and ("/usr/bin/time -f %%M -o %q %s > %q 2>/dev/null"):format(rss, cmd, out)
                        or ("%s > %q 2>/dev/null"):format(cmd, out)
  local ok = os.execute(full)
  local res
  for line in io.lines(out) do
    local a, b, c, d, e = line:match("^RESULT (%S+) (%S+) (%S+) (%S+) (%S+)")
    if a then res = {train = tonumber(a), train_cpu = tonumber(b), predict = tonumber(c),
                     predict_cpu = tonumber(d), score = tonumber(e)} end
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

print(("%d training rows x 50, %d test rows, %d trees, mtry 7, min leaf 1; seconds, MB"):format(nb, nt, trees))
local kinds = {}
for k in (os.getenv("SYLVA_BENCH_KINDS") or "k3,reg"):gmatch("%w+") do
  if k ~= "k3" and k ~= "reg" then error("SYLVA_BENCH_KINDS: unknown part " .. k .. " (k3, reg)") end
  kinds[#kinds + 1] = k
end
for _, kind in ipairs(kinds) do
  local X, y = data(sv.rng(2025, kind == "k3" and 1 or 3), nb, kind)
  local Xt, yt = data(sv.rng(2025, kind == "k3" and 2 or 4), nt, kind)
  local trp, tep = ("%s/%s_train.csv"):format(tmp, kind), ("%s/%s_test.csv"):format(tmp, kind)
  write_csv(trp, X, y)
  write_csv(tep, Xt, yt)
  print(("\n%s (score: %s)"):format(kind == "k3" and "3 classes" or "regression",
                                    kind == "k3" and "Hand-Till M" or "R^2"))
  print(("%-8s %3s %9s %9s %9s %9s %8s %8s %8s"):format("tool", "thr", "train", "train_cpu", "predict",
                                                      "pred_cpu", "score", "RSS", "dRSS"))
  local base = {}
  for _, tool in ipairs(tools) do
    if tool[3] then
      local b = run(tool[2](("%q %q 1 %d load"):format(trp, tep, trees)))
      base[tool[1]] = b and b.rss
    end
  end
  for _, thr in ipairs(thr_list) do
    local res = {}
    for _, tool in ipairs(tools) do
      if tool[3] then
        local r = run(tool[2](("%q %q %d %d %s"):format(trp, tep, thr, trees, kind)))
        res[tool[1]] = r
        if r then
          local d = r.rss and base[tool[1]] and (r.rss - base[tool[1]]) or nil
          print(("%-8s %3d %9.3f %9.3f %9.3f %9.3f %8.4f %s %s"):format(tool[1], thr, r.train, r.train_cpu,
                r.predict, r.predict_cpu, r.score, mb(r.rss), mb(d)))
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
        print(("  %s/sylva at %d thread%s: train %.2fx (cpu %.2fx), predict %.2fx (cpu %.2fx), dRSS %s, score %+.4f"):format(
          peer, thr, thr > 1 and "s" or "", o.train / me.train, o.train_cpu / me.train_cpu,
          o.predict / me.predict, o.predict_cpu / me.predict_cpu,
          (dm and dp and dm > 0) and ("%.2fx"):format(dp / dm) or "-", me.score - o.score))
      end
    end
  end
end
