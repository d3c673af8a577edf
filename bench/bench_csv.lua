-- bench_csv.lua - sv.read_csv against pandas' C parser and R's read.csv
-- (and data.table::fread when installed) on a generated numeric CSV of
-- SYLVA_BENCH_ROWS rows (default 1,000,000) x 12 columns (~85 MB at the
-- default size). Every reader runs in this same invocation, on the same
-- file; ratios are peer CPU time / sylva CPU time (> 1: sylva is faster),
-- wall times are printed too.
--   make bench BENCH=csv
--   SYLVA_BENCH_ROWS=200000 sylva bench/bench_csv.lua
local sv = require "sylva"

local rows = tonumber(os.getenv("SYLVA_BENCH_ROWS") or "") or 1000000
local ncol = 12
local repeat_n = tonumber(os.getenv("SYLVA_BENCH_REPEAT") or "") or 3
local dir = os.getenv("SYLVA_TMP") or os.getenv("TMPDIR") or "/tmp"
local path = ("%s/sylva_bench_csv_%d.csv"):format(dir, rows)
local here = arg[0]:match("^(.*)/[^/]*$") or "."

-- Columns 1-4 integers, 5-12 decimals with 4 places (what a clinical or
-- sensor export looks like); a fixed seed, so every run reads the same file.
local function generate()
  local r = sv.rng(2024)
  local f = assert(io.open(path .. ".part", "wb"))
  local names = {}
  for j = 1, ncol do names[j] = "x" .. j end
  f:write(table.concat(names, ","), "\n")
  local fmt = "%d,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n"
  local buf, nb = {}, 0
  for _ = 1, rows do
    nb = nb + 1
    buf[nb] = fmt:format(r:integer(0, 99999), r:integer(0, 1), r:integer(18, 90), r:integer(-500, 500),
      r:normal(0, 100), r:uniform(0, 1000), r:normal(50, 10), r:uniform(-1, 1),
      r:normal(0, 1000), r:uniform(0, 100), r:normal(-20, 5), r:uniform(0, 10000))
    if nb == 4096 then
      f:write(table.concat(buf, "", 1, nb))
      nb = 0
    end
  end
  f:write(table.concat(buf, "", 1, nb))
  f:close()
  assert(os.rename(path .. ".part", path))
end

local f = io.open(path, "rb")
if f then
  f:close()
else
  io.write(("generating %s (%d x %d) ... "):format(path, rows, ncol))
  io.flush()
  local t0 = sv.clock()
  generate()
  print(("%.1f s"):format(sv.clock() - t0))
end
f = assert(io.open(path, "rb"))
local bytes = f:seek("end")
f:close()
local mb = bytes / 1e6

-- Wall time and CPU time (os.clock: this process's CPU seconds) of the
-- best of repeat_n runs. The ratios use CPU time: on a machine shared with
-- other work, wall times of runs minutes apart are not comparable, CPU
-- times are (every reader here is single-threaded: pandas' C parser, R,
-- fread with nThread = 1, sylva).
sv.progress(false)
local best, best_cpu, d = math.huge, math.huge, nil
for _ = 1, repeat_n do
  collectgarbage()
  local t0, c0 = sv.clock(), os.clock()
  d = sv.read_csv(path)
  best = math.min(best, sv.clock() - t0)
  best_cpu = math.min(best_cpu, os.clock() - c0)
end
assert(d:nrow() == rows and d:ncol() == ncol, "sylva read the wrong shape")
d = nil
collectgarbage()
print(("%d x %d numeric CSV, %.1f MB; best of %d runs (R read.csv: 1)"):format(rows, ncol, mb, repeat_n))
print(("%-22s %9s %9s %10s %s"):format("reader", "wall s", "cpu s", "MB/s(cpu)", "cpu ratio"))
print(("%-22s %9.3f %9.3f %10.1f"):format("sylva read_csv", best, best_cpu, mb / best_cpu))

local function peer(label, cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local out = p and p:read("a") or ""
  if p then p:close() end
  local w, c, r, k = out:match("^%s*([%d%.eE+-]+)%s+([%d%.eE+-]+)%s+(%d+)%s+(%d+)")
  if not w then
    print(("%-22s skipped (not installed or failed: %s)"):format(label, cmd:match("^%S+")))
    return
  end
  w, c, r, k = tonumber(w), tonumber(c), tonumber(r), tonumber(k)
  assert(r == rows and k == ncol, label .. " read the wrong shape")
  print(("%-22s %9.3f %9.3f %10.1f %8.2fx"):format(label, w, c, mb / c, c / best_cpu))
end

peer("pandas read_csv (C)", ("/usr/bin/python3 %q %q %d"):format(here .. "/csv_pandas.py", path, repeat_n))
peer("R read.csv", ("Rscript %q %q 1"):format(here .. "/csv_r.R", path))
peer("data.table fread (1T)", ("Rscript %q %q %d fread"):format(here .. "/csv_r.R", path, repeat_n))
print("cpu ratio = peer CPU time / sylva CPU time; > 1 means sylva is faster")
