-- bench_surv.lua - sv.surv against R's survival on the same data:
-- Kaplan-Meier, log-rank with 3 groups and Cox with 10 covariates on
-- SYLVA_BENCH_SURV_N subjects (default 1,000,000). The data are generated
-- here (seeded), written once as CSV, read back by sylva (sv.read_csv) and
-- by R (bench/surv_r.R), so both fit exactly the same numbers. Only the
-- fitting calls are timed. Prints the times, the ratios R / sylva and a
-- check that both computed the same statistics.
local sv = require "sylva"

local n = tonumber(os.getenv("SYLVA_BENCH_SURV_N") or "") or 1000000
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local path = ("%s/sylva_bench_surv_%d.csv"):format(dir, n)
local p = 10

-- ---- data: exponential times with a log-hazard linear in x, 3 groups,
-- uniform censoring; times rounded to 0.01 so that ties occur (as in
-- real follow-up data, recorded in days).
do
  local f = assert(io.open(path, "w"))
  local r = sv.rng(20240611)
  local beta = {0.5, -0.3, 0.2, 0, 0.1, -0.1, 0.25, 0, -0.2, 0.05}
  local head = {"time", "event", "group"}
  for j = 1, p do head[#head + 1] = "x" .. j end
  f:write(table.concat(head, ","), "\n")
  local row = {}
  for i = 1, n do
    local g = r:integer(1, 3)
    local eta = 0.3 * (g - 1)
    for j = 1, p do
      local x = r:normal()
      row[3 + j] = ("%.4f"):format(x)
      eta = eta + beta[j] * tonumber(row[3 + j])
    end
    local t = -math.log(1 - r:uniform()) / math.exp(eta)
    local c = 3 * r:uniform()
    local time, event = math.min(t, c), t <= c and 1 or 0
    time = math.max(0.01, math.floor(time * 100 + 0.5) / 100)
    row[1], row[2], row[3] = ("%.2f"):format(time), event, g
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
end

local d = sv.read_csv(path)
local time, event, group = d:col("time"), d:col("event"), d:col("group")
local names = {}
for j = 1, p do names[j] = "x" .. j end
local X = d:matrix(names)

local function timed(fn)
  local best, v = math.huge, nil
  for _ = 1, 3 do
    local t0 = sv.clock()
    v = fn()
    best = math.min(best, sv.clock() - t0)
  end
  return best, v
end

local ours = {}
local km, lr, cx
ours.km, km = timed(function() return sv.surv.km(time, event) end)
ours.logrank, lr = timed(function() return sv.surv.logrank(time, event, group) end)
ours.cox, cx = timed(function() return sv.surv.cox(time, event, X) end)

print(("surv bench: %d subjects, %d events, %d covariates"):format(n, km.events, p))
local rfile = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/surv_r.R"
local pipe = io.popen(("Rscript %q %q 2>&1"):format(rfile, path))
local rt, rcheck = {}, {}
local rout = pipe and pipe:read("a") or ""
if pipe then pipe:close() end
for task, s in rout:gmatch("time (%S+) (%S+)") do rt[task] = tonumber(s) end
for k, v in rout:gmatch("check (%S+) (%S+)") do rcheck[k] = tonumber(v) end
if not rt.km then
  print("R survival not available: sylva times only (" .. rout:sub(1, 200) .. ")")
end
for _, task in ipairs{"km", "logrank", "cox"} do
  if rt[task] then
    print(("%-8s sylva %8.3f s   R %8.3f s   R/sylva %6.1fx"):format(task, ours[task], rt[task],
      rt[task] / ours[task]))
  else
    print(("%-8s sylva %8.3f s"):format(task, ours[task]))
  end
end
if rcheck.km_median then
  local function agree(name, a, b)
    print(("check %-14s sylva %.12g  R %.12g  rel diff %.2g"):format(name, a, b,
      math.abs(a - b) / math.abs(b)))
  end
  agree("km median", km.median, rcheck.km_median)
  agree("logrank chisq", lr.chisq, rcheck.logrank_chisq)
  agree("cox coef x1", cx.coef[1], rcheck.cox_coef1)
  agree("cox loglik", cx.loglik[2], rcheck.cox_loglik)
end
os.remove(path)
