-- run.lua - `make bench`: runs every bench/bench_*.lua (or those named in
-- the BENCH environment variable, e.g. BENCH=csv,forest) with this sylva
-- binary. Each benchmark measures sylva and its peers in the same run and
-- prints ratios, never a bare absolute time to compare across runs.
local lfs = require "lfs"

local bin = arg[-1] or "sylva"
local dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local only = os.getenv("BENCH")
local wanted
if only and only ~= "" then
  wanted = {}
  for name in only:gmatch("[^,%s]+") do wanted[name] = true end
end

local files = {}
for f in lfs.dir(dir) do
  local name = f:match("^bench_(.+)%.lua$")
  if name and (not wanted or wanted[name]) then files[#files + 1] = {name, dir .. "/" .. f} end
end
table.sort(files, function(a, b) return a[1] < b[1] end)

local failed = 0
for _, f in ipairs(files) do
  print(("== bench %s"):format(f[1]))
  local ok = os.execute(("%q %q"):format(bin, f[2]))
  if not ok then
    failed = failed + 1
    print(("!! bench %s failed"):format(f[1]))
  end
end
os.exit(failed == 0 and 0 or 1)
