-- The calibration errors Emax, E90 and ICI (Austin & Steyerberg 2019) of
-- sv.validate.metrics against rms::val.prob, and the lowess smoother they
-- rest on against stats::lowess, from R's own numbers
-- (tests/oracle/calib_errors_r.R) to 1e-9; then the errors inside the
-- bootstrap.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/validate/"
local pts = T.read_fixture_rows(FIX .. "calib_points.csv")
local n = #pts
local col = {}
for _, k in ipairs({"y", "p", "p2", "age", "years"}) do
  col[k] = {}
  for i, r in ipairs(pts) do col[k][i] = r[k] end
end
local rows = {}
for v in io.open(FIX .. "calib_rows.txt"):read("a"):gmatch("%d+") do rows[#rows + 1] = tonumber(v) end

-- x sorted as R's order() does (ties in input order), y along
local function sorted(x, y)
  local idx = {}
  for i = 1, #x do idx[i] = i end
  table.sort(idx, function(a, b) if x[a] ~= x[b] then return x[a] < x[b] end return a < b end)
  local xs, ys = {}, {}
  for k, i in ipairs(idx) do xs[k], ys[k] = x[i], y[i] end
  return xs, ys
end

local lw = {}
for _, r in ipairs(T.read_fixture_rows(FIX .. "lowess_r.csv")) do
  lw[r.case] = lw[r.case] or {x = {}, fit = {}}
  lw[r.case].x[r.i], lw[r.case].fit[r.i] = r.x, r.fit
end

T.test("lowess equals R's stats::lowess to 1e-9 (iter 0 and 3, ties, span 0.3)", function()
  local cases = {
    p_iter0 = {"p", "y", 2 / 3, 0}, p2_iter0 = {"p2", "y", 2 / 3, 0}, age_iter3 = {"age", "years", 2 / 3, 3},
    age_f03 = {"age", "years", 0.3, 3}, years_status = {"years", "y", 2 / 3, 3},
  }
  local seen = 0
  for name, c in pairs(cases) do
    local xs, ys = sorted(col[c[1]], col[c[2]])
    local fit = sv._validate.lowess(xs, ys, c[3], c[4])
    local want = lw[name]
    T.eq(#fit, #want.fit, name)
    for i = 1, #fit do
      T.eq(xs[i], want.x[i], name .. " x order")
      T.near(fit[i], want.fit[i], 1e-9, ("%s point %d"):format(name, i), true)
    end
    seen = seen + 1
  end
  T.eq(seen, 5)
  T.raises(function() sv._validate.lowess({2, 1}, {0, 1}) end, "x is not sorted")
end)

T.test("Emax, E90 and ICI equal rms::val.prob's Emax, E90 and Eavg to 1e-9", function()
  local want = {}
  for _, r in ipairs(T.read_fixture_rows(FIX .. "calib_errors_r.csv")) do want[r.case] = r end
  local function check(m, w, tag)
    T.near(m.emax, w.emax, 1e-9, tag .. " Emax", true)
    T.near(m.e90, w.e90, 1e-9, tag .. " E90", true)
    T.near(m.ici, w.ici, 1e-9, tag .. " ICI", true)
  end
  check(sv.validate.metrics(col.y, col.p), want.p, "p")
  check(sv.validate.metrics(col.y, col.p2), want.p2, "rounded p (ties)")
  -- a row list with repeats: the replicate's own rows, as listed
  check(sv.validate.metrics(col.y, col.p, rows), want.p_rows, "row list")
  -- invariants: the order of the listed rows does not matter
  local rev = {}
  for i = #rows, 1, -1 do rev[#rev + 1] = rows[i] end
  local a, b = sv.validate.metrics(col.y, col.p, rows), sv.validate.metrics(col.y, col.p, rev)
  T.near(a.emax, b.emax, 1e-12, "reversed rows", true)
  T.near(a.ici, b.ici, 1e-12, "reversed rows", true)
end)

T.test("the bootstrap reports Emax, E90 and ICI: apparent, optimism, corrected", function()
  local d = sv.read_csv(T.root .. "/tests/fixtures/data/gbsg.csv")
  local cols = {"age", "size", "nodes", "pgr", "er", "hormon"}
  local X, y = d:matrix(cols), d:col("status")
  local function fit(r)
    local m = sv.glm.logistic(X:rows(r), sv.split.take(y, r))
    return function(q) return m:predict(X:rows(q)) end
  end
  local v = sv.validate.bootstrap(y, fit, {B = 20, seed = 1, record = true, threads = 1})
  local app = sv.validate.metrics(y, fit((function() local a = {} for i = 1, #y do a[i] = i end return a end)())(
    (function() local a = {} for i = 1, #y do a[i] = i end return a end)()))
  for _, m in ipairs({"emax", "e90", "ici"}) do
    T.eq(v.apparent[m], app[m], m .. " apparent")
    T.eq(v.n[m], 20)
    -- optimism = mean over replicates of (own rows - all rows)
    local s = 0
    for _, rec in ipairs(v.replicates) do s = s + rec.train[m] - rec.test[m] end
    T.near(v.optimism[m], s / 20, 1e-12, m .. " optimism", true)
    T.near(v.corrected[m], v.apparent[m] - v.optimism[m], 1e-15, m .. " corrected", true)
  end
  T.ok(v.apparent.e90 <= v.apparent.emax and v.apparent.ici <= v.apparent.emax)
  local w = sv.validate.bootstrap(y, fit, {B = 20, seed = 1, method = ".632+", threads = 1})
  T.ok(w.corrected.ici ~= w.corrected.ici, ".632+ has no no-information value for ICI: NaN")
end)

T.done()
