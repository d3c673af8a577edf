-- test_her2_cohort.lua - the committed HER2 cohort is exactly what
-- examples/her2/make_cohort.lua writes (so `make cohort` is reproducible),
-- and it has the shape docs/her2-cohort.md promises.
local T = require "testing"

local root, tmp = T.root, T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"
local dir = tmp .. "/her2_cohort"

T.test("make_cohort.lua regenerates the committed CSVs byte for byte", function()
  os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))
  local ok = os.execute(("%q %q %q > /dev/null"):format(bin, root .. "/examples/her2/make_cohort.lua", dir))
  T.ok(ok, "make_cohort.lua ran")
  for _, f in ipairs({"center1.csv", "center2.csv"}) do
    local fresh = T.read_file(dir .. "/" .. f)
    local committed = T.read_file(root .. "/examples/her2/data/" .. f)
    T.eq(#fresh, #committed, f .. " size")
    T.ok(fresh == committed, f .. " differs from the committed file")
  end
end)

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

T.test("cohort shape: 480 + 198 patients, 21 columns, HER2 mix near 30/46/24 %", function()
  local c1 = lines(root .. "/examples/her2/data/center1.csv")
  local c2 = lines(root .. "/examples/her2/data/center2.csv")
  T.eq(#c1 - 1, 480, "centre 1 rows")
  T.eq(#c2 - 1, 198, "centre 2 rows")
  local count = {positive = 0, low = 0, zero = 0}
  local events = 0
  for i = 2, #c1 do
    local fields = {}
    for v in (c1[i] .. ","):gmatch("([^,]*),") do fields[#fields + 1] = v end
    T.eq(#fields, 21, "centre 1 fields on line " .. i)
    count[fields[19]] = count[fields[19]] + 1
    events = events + tonumber(fields[21])
  end
  -- each share within 5 points of the design (binomial SE at n=480 is ~2.3 points)
  T.near(count.positive / 480, 0.30, 0.05, "positive share")
  T.near(count.low / 480, 0.46, 0.05, "low share")
  T.near(count.zero / 480, 0.24, 0.05, "zero share")
  T.near(events / 480, 0.15, 0.05, "event share")
end)

T.done()
