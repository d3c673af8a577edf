-- bench_survtd.lua - sv.surv.auc_t (AUC(t) with its influence-function
-- SE at 10 times) against riskRegression::Score(metrics = "auc",
-- cens.model = "km", se.fit = TRUE) on the same data, in the same run.
-- Default: 100,000 subjects (the issue's target), best of 3 for sylva and
-- of 1 for R. SYLVA_BENCH_SURVTD_N="10000,100000,1000000" runs a ladder
-- to see where each stops scaling: R runs under `ulimit -v` of
-- SYLVA_BENCH_SURVTD_RMEM_GB (default 8) and `timeout` of
-- SYLVA_BENCH_SURVTD_RTIME seconds (default 600); a rung that R cannot
-- finish is reported as such and the larger rungs run sylva only.
-- Data: a normal marker, exponential times with log-hazard 0.5 x,
-- uniform censoring on (0, 3), times rounded to 0.01 (ties), ~2/3 events;
-- the times are the 1/11 .. 10/11 quantiles of the event times.
local sv = require "sylva"

local ladder = {}
for v in (os.getenv("SYLVA_BENCH_SURVTD_N") or "100000"):gmatch("[^,%s]+") do ladder[#ladder + 1] = tonumber(v) end
local rmem = tonumber(os.getenv("SYLVA_BENCH_SURVTD_RMEM_GB") or "") or 8
local rtime = tonumber(os.getenv("SYLVA_BENCH_SURVTD_RTIME") or "") or 600
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local rfile = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/survtd_r.R"

local function rss_kb() -- this process's peak resident set
  local f = io.open("/proc/self/status")
  if not f then return 0 / 0 end
  local s = f:read("a"); f:close()
  return tonumber(s:match("VmHWM:%s+(%d+)")) or 0 / 0
end

local r_ok = true
for _, n in ipairs(ladder) do
  local path = ("%s/sylva_bench_survtd_%d.csv"):format(dir, n)
  local rng = sv.rng(20261202)
  local t, e, x = {}, {}, {}
  local f = assert(io.open(path, "w"))
  f:write("time,event,marker\n")
  for i = 1, n do
    local m = tonumber(("%.6f"):format(rng:normal()))
    local tt = -math.log(1 - rng:uniform()) / math.exp(0.5 * m)
    local c = 3 * rng:uniform()
    local time = math.max(0.01, math.floor(math.min(tt, c) * 100 + 0.5) / 100)
    t[i], e[i], x[i] = time, tt <= c and 1 or 0, m
    f:write(("%.2f,%d,%.6f\n"):format(time, e[i], m))
  end
  f:close()
  local ev = {}
  for i = 1, n do if e[i] == 1 then ev[#ev + 1] = t[i] end end
  table.sort(ev)
  local times = {}
  for k = 1, 10 do times[k] = ev[math.max(1, math.floor(#ev * k / 11))] end
  for k = 2, 10 do if times[k] <= times[k - 1] then times[k] = times[k - 1] + 0.01 end end
  t, e, x = sv.vector(t), sv.vector(e), sv.vector(x)

  local best, a = math.huge, nil
  for _ = 1, 3 do
    local t0 = sv.clock()
    a = sv.surv.auc_t(t, e, x, times)
    best = math.min(best, sv.clock() - t0)
  end
  print(("survtd bench: %d subjects, %d events, 10 times"):format(n, #ev))
  local rt, rmb, rcheck, rmsg = nil, nil, {}, nil
  if r_ok then
    local targs = {}
    for k = 1, 10 do targs[k] = ("%.17g"):format(times[k]) end
    local cmd = ("ulimit -v %d; timeout %d Rscript %q %q 1 %s 2>&1"):format(
      math.floor(rmem * 1024 * 1024), rtime, rfile, path, table.concat(targs, " "))
    local pipe = io.popen(cmd)
    local out = pipe and pipe:read("a") or ""
    local ok, _, code = true, nil, nil
    if pipe then ok, _, code = pipe:close() end
    rt = tonumber(out:match("time auc_t (%S+)"))
    rmb = tonumber(out:match("mem auc_t (%S+)"))
    for k, v in out:gmatch("check (%S+) (%S+)") do rcheck[k] = tonumber(v) end
    if not rt then
      if out:find("there is no package called") then
        rmsg = "riskRegression not installed: sylva only"
      elseif code == 124 then
        rmsg = ("R did not finish within %d s"):format(rtime)
      else
        rmsg = "R failed (" .. (out:match("[^\n]*[Ee]rror[^\n]*") or out:sub(1, 160)):gsub("%s+$", "") .. ")"
      end
      r_ok = false
    end
  else
    rmsg = "R skipped (failed at a smaller n)"
  end
  local mine = ("auc_t    sylva %8.3f s (peak RSS %d MB)"):format(best, math.floor(rss_kb() / 1024))
  if rt then
    print(("%s   riskRegression %8.3f s (R gc peak %d MB)   R/sylva %6.1fx"):format(mine, rt, math.floor(rmb or 0), rt / best))
    local function agree(name, mine_v, r)
      print(("check %-10s sylva %.12g  R %.12g  rel diff %.2g"):format(name, mine_v, r, math.abs(mine_v - r) / math.abs(r)))
    end
    agree("auc t1", a.auc[1], rcheck.auc_first)
    agree("se t1", a.se[1], rcheck.se_first)
    agree("auc t10", a.auc[10], rcheck.auc_last)
    agree("se t10", a.se[10], rcheck.se_last)
  else
    print(mine .. "   " .. rmsg)
  end
  os.remove(path)
end
