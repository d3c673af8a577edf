-- bench_study.lua - the whole HER2 study (`sylva study examples/her2/study.lua`) against
-- the same analysis written with R's ranger + pROC + survival
-- (bench/study_r.R: same data, encoding, split rule, grid, 5-fold CV, trees,
-- evaluation and survival analysis; no SHAP, so it selects features by
-- ranger's permutation importance). Both are timed as whole processes, start
-- to finish, on the same machine in the same run; the ratio is what to read.
--   make bench BENCH=study
local sv = require "sylva"

local bin = arg[-1] or "sylva"
local threads = tonumber(os.getenv("SYLVA_THREADS") or "2")
local out = os.getenv("SYLVA_TMP") or "/tmp"

-- wall-clock seconds of a command, and its CPU seconds (user + system, of
-- the process and its children, from bash's `times`) when bash is there:
-- on a shared machine CPU time is the steadier of the two
local function run(cmd)
  local cpu_file = out .. "/bench_study_cpu.txt"
  os.remove(cpu_file)
  local t0 = sv.clock()
  local ok = os.execute(("bash -c %q"):format(cmd .. "; rc=$?; times > " .. cpu_file .. "; exit $rc"))
  local wall = sv.clock() - t0
  if not ok then return nil end
  local cpu
  local f = io.open(cpu_file)
  if f then
    local text = f:read("a")
    f:close()
    -- second line of `times`: children's user and system time, "0m4.123s 0m0.100s"
    local m1, s1, m2, s2 = text:match("\n(%d+)m([%d.]+)s%s+(%d+)m([%d.]+)s")
    if m1 then cpu = 60 * tonumber(m1) + tonumber(s1) + 60 * tonumber(m2) + tonumber(s2) end
  end
  return wall, cpu
end

local function show(label, wall, cpu)
  print(("%-48s wall %7.2f s   cpu %s"):format(label, wall, cpu and ("%7.2f s"):format(cpu) or "   n/a"))
end

local t_sylva, c_sylva = run(("%q study examples/her2/study.lua --threads %d --out %q > %q 2>&1")
  :format(bin, threads, out .. "/bench_study_her2", out .. "/bench_study_sylva.log"))
if not t_sylva then
  print("sylva study failed; see " .. out .. "/bench_study_sylva.log")
  os.exit(1)
end
show("sylva  study examples/her2/study.lua (SHAP)", t_sylva, c_sylva)

local have_r = os.execute("Rscript -e 'suppressMessages({library(ranger); library(pROC); library(survival)})' > /dev/null 2>&1")
if not have_r then
  print("R with ranger, pROC and survival not installed: peer skipped")
  return
end
local t_r, c_r = run(("Rscript bench/study_r.R examples/her2/data 500 %d > %q 2>&1")
  :format(threads, out .. "/bench_study_r.log"))
if not t_r then
  print("R study failed; see " .. out .. "/bench_study_r.log")
  os.exit(1)
end
show("R      bench/study_r.R (no SHAP)", t_r, c_r)
print(("ratio  R / sylva: wall %.1fx%s"):format(t_r / t_sylva,
  (c_r and c_sylva) and ("   cpu %.1fx"):format(c_r / c_sylva) or ""))
print("(the study's target: under 5 s wall on this 2-core machine when it is not shared)")
