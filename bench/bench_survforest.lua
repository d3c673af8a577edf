-- bench_survforest.lua - sv.forest.survival against ranger (splitrule =
-- "logrank") on the same data in the same run, each in its own process
-- (so each peak RSS is its own): training time, predicting S(t) at 100
-- times for 10,000 test rows, peak memory. Default short: 2,000 training
-- rows x 20 features, 50 trees (ranger's split search is O(candidates x
-- unique times) per node, so it needs minutes already at 5,000 rows); the
-- issue's size is
--   SYLVA_BENCH_SURVFOREST_N=50000 SYLVA_BENCH_SURVFOREST_TREES=500
-- and SYLVA_BENCH_SURVFOREST_R=0 skips ranger (hours at that size).
-- Data: 20 standard normal features (4 decimals), exponential times with a
-- log-hazard linear in 6 of them, exponential censoring giving ~30% events,
-- times rounded to 0.001 (so nearly every time is unique: the grid that
-- makes per-leaf n x times storage expensive). Both use every core.
local sv = require "sylva"

local n = tonumber(os.getenv("SYLVA_BENCH_SURVFOREST_N") or "") or 2000
local trees = tonumber(os.getenv("SYLVA_BENCH_SURVFOREST_TREES") or "") or 50
local ntest, ntimes, p = 10000, 100, 20
local threads = tonumber(os.getenv("SYLVA_BENCH_THREADS") or "") or 2
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local bin = arg[-1] or "sylva"

local function write(path, rows, seed)
  local f = assert(io.open(path, "w"))
  local r = sv.rng(seed)
  local head = {"time", "event"}
  for j = 1, p do head[#head + 1] = "x" .. j end
  f:write(table.concat(head, ","), "\n")
  local beta = {0.6, -0.4, 0.3, 0.3, -0.2, 0.2}
  local events, row = 0, {}
  for _ = 1, rows do
    local eta = 0
    for j = 1, p do
      row[2 + j] = ("%.4f"):format(r:normal())
      if beta[j] then eta = eta + beta[j] * tonumber(row[2 + j]) end
    end
    local t = -math.log(1 - r:uniform()) / math.exp(eta)
    local c = -math.log(1 - r:uniform()) / 2.3
    local time = math.max(0.001, math.floor(math.min(t, c) * 1000 + 0.5) / 1000)
    row[1], row[2] = ("%.3f"):format(time), t <= c and 1 or 0
    events = events + row[2]
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
  return events
end

local train = ("%s/sylva_bench_survforest_train_%d.csv"):format(dir, n)
local test = ("%s/sylva_bench_survforest_test.csv"):format(dir)
local ev = write(train, n, 20261202)
write(test, ntest, 77)
print(("survforest bench: %d x %d, %d events (%.0f%%), %d trees, %d threads; S(t) at %d times for %d rows"):format(
  n, p, ev, 100 * ev / n, trees, threads, ntimes, ntest))

local function run(cmd)
  local pipe = io.popen(cmd .. " 2>&1")
  local out = pipe:read("a")
  pipe:close()
  local r = {}
  for k, v in out:gmatch("time (%S+) (%S+)") do r[k] = tonumber(v) end
  r.mem = tonumber(out:match("mem peak (%S+)"))
  r.S = tonumber(out:match("check mean_S_mid (%S+)"))
  r.C = tonumber(out:match("check test_C (%S+)"))
  r.out = out
  return r
end
local args = ("%q %q %d %d %d"):format(train, test, threads, trees, ntimes)
local s = run(("%q %q/survforest_sylva.lua %s"):format(bin, here, args))
local R = os.getenv("SYLVA_BENCH_SURVFOREST_R") == "0" and {out = "skipped (SYLVA_BENCH_SURVFOREST_R=0)"}
  or run(("Rscript %q/survforest_ranger.R %s"):format(here, args))
if not s.train then print("sylva failed: " .. s.out:sub(1, 300)) os.exit(1) end
local function line(what, a, b, unit)
  if b then print(("%-22s sylva %9.3f %s   ranger %9.3f %s   ranger/sylva %6.1fx"):format(what, a, unit, b, unit, b / a))
  else print(("%-22s sylva %9.3f %s"):format(what, a, unit)) end
end
if not R.train then print("ranger not available: " .. R.out:sub(1, 200)) end
line("train", s.train, R.train, "s")
line("predict S(t)", s.predict, R.predict, "s")
line("peak memory", s.mem, R.mem, "MB")
if R.C then
  print(("check test C          sylva %.4f   ranger %.4f"):format(s.C, R.C))
  print(("check mean S(t_mid)   sylva %.4f   ranger %.4f"):format(s.S, R.S))
end
os.remove(train)
os.remove(test)
