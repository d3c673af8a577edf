-- survforest_sylva.lua - one run of sv.forest.survival, started as a child
-- process by bench_survforest.lua (so that its peak RSS is its own):
--   sylva survforest_sylva.lua train.csv test.csv threads trees ntimes
-- Prints "time train <s>", "time predict <s>" (S(t) at ntimes times for the
-- test rows), "mem peak <MB>" and the test rows' mean S at the middle time
-- and Harrell's C of the test risk.
local sv = require "sylva"
local train, test, threads, trees, ntimes = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
local function load(path)
  local d = sv.read_csv(path)
  local names = {}
  for _, nm in ipairs(d:names()) do if nm:match("^x") then names[#names + 1] = nm end end
  return d:matrix(names), d:col("time"), d:col("event")
end
local X, t, e = load(train)
local Xt, tt, et = load(test)
local t0 = sv.clock()
local f = sv.forest.survival(X, t, e, {trees = trees, threads = threads, seed = 1})
local t1 = sv.clock()
local grid = f:times()
local times = {}
for k = 1, ntimes do times[k] = grid[math.max(1, math.floor(#grid * k / (ntimes + 1)))] end
local t2 = sv.clock()
local S = f:survival(Xt, times)
local t3 = sv.clock()
local risk = f:predict(Xt)
local st = io.open("/proc/self/status"):read("a")
print(("time train %.6f"):format(t1 - t0))
print(("time predict %.6f"):format(t3 - t2))
print(("mem peak %.1f"):format(tonumber(st:match("VmHWM:%s+(%d+)")) / 1024))
local mid, m = math.floor(ntimes / 2), 0
for i = 1, S:nrow() do m = m + S:get(i, mid) end
print(("check mean_S_mid %.6f"):format(m / S:nrow()))
print(("check test_C %.6f"):format(sv.surv.concordance(tt, et, risk)))
