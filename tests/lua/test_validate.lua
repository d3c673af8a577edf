-- sv.validate against R: the optimism, .632 and .632+ bootstrap and the
-- prediction instability of a logistic pipeline recomputed in R (glm +
-- pROC + the recalibration glm) from the bootstrap rows sylva recorded
-- (tests/oracle/validate_export.lua, validate_r.R), to 1e-9; then a
-- statistical check against rms::validate (its own resamples) within
-- Monte Carlo error; failures, determinism and misuse.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/validate/"
local d = sv.read_csv(T.root .. "/tests/fixtures/data/gbsg.csv")
local cols = {"age", "size", "nodes", "pgr", "er", "hormon"}
local X, y = d:matrix(cols), d:col("status")
local n = #y
local function fit(rows)
  local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
  return function(r) return m:predict(X:rows(r)) end, {features = cols}
end

local exact = {}
for _, r in ipairs(T.read_fixture_rows(FIX .. "validate_exact.csv")) do
  exact[r.method] = exact[r.method] or {}
  exact[r.method][r.metric] = r
end

-- numbers of two IRLS fits that take the same path agree to ~1e-13; the
-- calibration intercept of the apparent model is ~1e-9 itself (R stops
-- glm at epsilon 1e-8), hence an absolute floor of 1e-9 below 1
local function close(a, b, msg) T.near(a, b, 1e-9, msg, true) end

T.test("the recorded bootstrap rows are the fixture's (the generator is stable)", function()
  local r = sv.validate.bootstrap(y, fit, {B = 40, seed = 2024, record = true})
  local b = 0
  for line in io.lines(FIX .. "boot_rows.txt") do
    b = b + 1
    local i = 0
    for v in line:gmatch("%d+") do
      i = i + 1
      if tonumber(v) ~= r.rows[b][i] then error(("replicate %d row %d differs"):format(b, i)) end
    end
    T.eq(i, n)
  end
  T.eq(b, 40)
end)

T.test("optimism, .632 and .632+ equal R's recomputation from the same rows to 1e-9", function()
  for _, method in ipairs({"optimism", ".632", ".632+"}) do
    local r = sv.validate.bootstrap(y, fit, {B = 40, seed = 2024, method = method})
    T.eq(r.failed, 0)
    for _, m in ipairs({"auc", "brier", "slope", "intercept"}) do
      local e = exact[({optimism = "optimism", [".632"] = "dot632", [".632+"] = "dot632plus"})[method]][m]
      local tag = method .. " " .. m
      close(r.apparent[m], e.apparent, tag .. " apparent")
      if e.corrected ~= e.corrected then
        T.ok(r.corrected[m] ~= r.corrected[m], tag .. ": no .632+ for calibration, NaN")
      else
        close(r.optimism[m], e.optimism, tag .. " optimism")
        close(r.corrected[m], e.corrected, tag .. " corrected")
        T.eq(r.n[m], 40)
      end
    end
  end
end)

T.test("prediction instability equals R's (mean |p_b - p0|, 2.5% and 97.5% quantiles)", function()
  local r = sv.validate.bootstrap(y, fit, {B = 40, seed = 2024})
  local e = exact.instability
  close(r.instability.mape_mean, e.mape_mean.corrected, "mape_mean")
  for i = 1, 5 do
    close(r.instability.mape[i], e["mape_" .. i].corrected, "mape " .. i)
    close(r.instability.lo[i], e["lo_" .. i].corrected, "lo " .. i)
    close(r.instability.hi[i], e["hi_" .. i].corrected, "hi " .. i)
  end
  -- every replicate selected every feature of this fixed model
  T.eq(#r.selection, #cols)
  for _, s in ipairs(r.selection) do T.eq(s.frequency, 1) end
end)

T.test("optimism agrees with rms::validate (B = 200, other resamples) within Monte Carlo error", function()
  local rms = {}
  for _, r in ipairs(T.read_fixture_rows(FIX .. "validate_rms.csv")) do rms[r.index] = r end
  local B = 200
  local r = sv.validate.bootstrap(y, fit, {B = B, seed = 11, record = true})
  -- the apparent indices are the same fit's: AUC = Dxy/2 + 1/2 (lrm and
  -- glm stop at different tolerances: 1e-6 covers it), Brier likewise
  T.near(r.apparent.auc, rms.Dxy.index_orig / 2 + 0.5, 1e-6)
  T.near(r.apparent.brier, rms.B.index_orig, 1e-8)
  -- Each optimism is a mean of B replicate differences; rms's is another
  -- such mean over its own B = 200 resamples of the same model. Their
  -- difference has standard error sd * sqrt(1/200 + 1/200), sd estimated
  -- from sylva's replicates; allow 4 standard errors.
  local function sd_of(metric)
    local s, s2 = 0, 0
    for _, rep in ipairs(r.replicates) do
      local dlt = rep.train[metric] - rep.test[metric]
      s, s2 = s + dlt, s2 + dlt * dlt
    end
    return math.sqrt((s2 - s * s / B) / (B - 1))
  end
  for _, c in ipairs({{"auc", "Dxy", 0.5}, {"slope", "Slope", -1}, {"brier", "B", 1}}) do
    local mine, theirs = r.optimism[c[1]], c[3] * rms[c[2]].optimism
    -- rms's slope index: training 1, test = slope; optimism = 1 - slope.
    -- sylva's optimism is in the metric's own direction (train - test):
    -- for the slope, 1 - test as well, so the sign is the same
    if c[1] == "slope" then theirs = rms[c[2]].optimism end
    local tol = 4 * sd_of(c[1]) * math.sqrt(2 / B)
    T.ok(math.abs(mine - theirs) <= tol,
      ("%s optimism %.5f vs rms %.5f: |diff| %.5f > 4 SE %.5f"):format(c[1], mine, theirs, math.abs(mine - theirs), tol))
  end
end)

T.test("a failing replicate is counted and reported, never dropped silently", function()
  -- the pipeline refuses samples that hold row 1 three times or more
  local function picky(rows)
    local c = 0
    for _, r in ipairs(rows) do if r == 1 then c = c + 1 end end
    if c >= 3 then error("too many copies of row 1") end
    return fit(rows)
  end
  local r = sv.validate.bootstrap(y, picky, {B = 300, seed = 3, record = true})
  local expect = 0
  for _, rows in ipairs(r.rows) do
    local c = 0
    for _, i in ipairs(rows) do if i == 1 then c = c + 1 end end
    if c >= 3 then expect = expect + 1 end
  end
  T.ok(expect > 0, "the seed gives some failing replicates")
  T.eq(r.failed, expect)
  T.eq(#r.failures, expect)
  T.ok(r.failures[1].error:find("too many copies", 1, true))
  T.eq(r.n.auc, 300 - expect)
  -- an interrupt is not a failure: it stops the run
  T.raises(function()
    sv.validate.bootstrap(y, function() error("forest.train: interrupted") end, {B = 2})
  end, "interrupted")
end)

T.test("the same seed gives bitwise identical results; another seed other rows", function()
  local a = sv.validate.bootstrap(y, fit, {B = 10, seed = 5})
  local b = sv.validate.bootstrap(y, fit, {B = 10, seed = 5})
  local c = sv.validate.bootstrap(y, fit, {B = 10, seed = 6})
  for _, m in ipairs({"auc", "brier", "slope", "intercept"}) do T.eq(a.corrected[m], b.corrected[m]) end
  T.ok(a.optimism.auc ~= c.optimism.auc)
end)

T.test("repeated k-fold CV: the mean of the folds' metrics on their test rows", function()
  local r = sv.validate.cv(y, fit, {k = 5, repeats = 2, seed = 4, record = true})
  T.eq(r.folds, 10)
  T.eq(r.failed, 0)
  -- recompute from the same folds with an independent glm fit per fold
  local folds = sv.split.repeated_kfold(y, {k = 5, repeats = 2, seed = 4})
  local s = 0
  for _, f in ipairs(folds) do
    local m = sv.glm.logistic(X:rows(f.train), sv.split.take(y, f.train))
    s = s + sv.roc.auc(sv.split.take(y, f.test), m:predict(X:rows(f.test))).auc
  end
  T.rel(r.cv.auc, s / 10, 1e-12)
  T.ok(r.cv.auc < r.apparent.auc, "out-of-fold AUC below the apparent")
end)

T.test("instability and selection figures draw the result", function()
  -- a pipeline that selects the two features with the largest |z|
  local function sel_fit(rows)
    local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
    local order = {}
    for j = 1, #cols do order[j] = j end
    table.sort(order, function(a, b) return math.abs(m.z[a + 1]) > math.abs(m.z[b + 1]) end)
    local keep = {order[1], order[2]}
    local m2 = sv.glm.logistic(X:rows(rows):cols(keep), sv.split.take(y, rows))
    return function(r) return m2:predict(X:rows(r):cols(keep)) end, {features = {cols[keep[1]], cols[keep[2]]}}
  end
  local v = sv.validate.bootstrap(y, sel_fit, {B = 20, seed = 1})
  local total = 0
  for _, s in ipairs(v.selection) do total = total + s.count end
  T.eq(total, 2 * 20, "two features per replicate")
  for i = 2, #v.selection do T.ok(v.selection[i - 1].count >= v.selection[i].count) end
  local svg = sv.plot.instability(v, {max_points = 5 * n})
  local _, circles = svg:gsub("<circle ", "")
  T.ok(circles >= 5 * n, "five replicates of points and the legend")
  T.ok(svg:find("MAPE", 1, true))
  local bars = sv.plot.selection(v)
  local _, nb = bars:gsub('class="bar"', "")
  T.eq(nb, #v.selection)
  T.raises(function() sv.plot.instability({}) end, "bad argument #1 to 'plot.instability'")
end)

T.test("misuse names the argument or option", function()
  T.raises(function() sv.validate.bootstrap(y, fit, {B = 0}) end, "bad option 'B' to validate.bootstrap")
  T.raises(function() sv.validate.bootstrap(y, fit, {method = "632"}) end, "bad option 'method' to validate.bootstrap")
  T.raises(function() sv.validate.bootstrap(y, 3) end, "bad argument #2 to 'validate.bootstrap' (function fit(rows) expected")
  T.raises(function() sv.validate.bootstrap({1, 1, 1}, fit) end, "y holds only class 1")
  T.raises(function() sv.validate.bootstrap(y, fit, {Bee = 3}) end, "unknown option 'Bee' to validate.bootstrap")
  T.raises(function() sv.validate.bootstrap(y, function() return 1 end, {B = 2}) end,
    "validate.bootstrap: the pipeline failed on all rows: fit returned number")
end)

-- a pipeline that fails on some resamples (row 1 drawn three times or
-- more) and selects the two features with the largest |z|
local function picky_sel(rows)
  local c = 0
  for _, r in ipairs(rows) do if r == 1 then c = c + 1 end end
  if c >= 3 then error("too many copies of row 1") end
  local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
  local order = {}
  for j = 1, #cols do order[j] = j end
  table.sort(order, function(a, b) return math.abs(m.z[a + 1]) > math.abs(m.z[b + 1]) end)
  local keep = {order[1], order[2]}
  local m2 = sv.glm.logistic(X:rows(rows):cols(keep), sv.split.take(y, rows))
  return function(r) return m2:predict(X:rows(r):cols(keep)) end, {features = {cols[keep[1]], cols[keep[2]]}}
end

-- every number of two results is the same bit for bit (NaN matches NaN)
local function same(a, b, path)
  if type(a) == "userdata" and type(b) == "userdata" then
    T.eq(#a, #b, path .. " length")
    for i = 1, #a do
      if not (a[i] == b[i] or (a[i] ~= a[i] and b[i] ~= b[i])) then
        error(("%s[%d]: %s vs %s"):format(path, i, tostring(a[i]), tostring(b[i])), 0)
      end
    end
    return
  end
  if type(a) ~= type(b) then error(("%s: %s vs %s"):format(path, type(a), type(b)), 0) end
  if type(a) == "table" then
    for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
    for k in pairs(b) do if a[k] == nil then error(path .. "." .. tostring(k) .. " only in the second", 0) end end
  elseif type(a) == "number" then
    if not (a == b or (a ~= a and b ~= b)) or math.type(a) ~= math.type(b) then
      error(("%s: %s vs %s"):format(path, tostring(a), tostring(b)), 0)
    end
  elseif a ~= b then
    error(("%s: %s vs %s"):format(path, tostring(a), tostring(b)), 0)
  end
end

T.test("replicates in worker processes: the same result bit for bit as in one process, failures included", function()
  for _, method in ipairs({"optimism", ".632+"}) do
    local one = sv.validate.bootstrap(y, picky_sel, {B = 120, seed = 3, method = method, record = true, threads = 1})
    local two = sv.validate.bootstrap(y, picky_sel, {B = 120, seed = 3, method = method, record = true, threads = 2})
    local three = sv.validate.bootstrap(y, picky_sel, {B = 120, seed = 3, method = method, record = true, threads = 3})
    T.ok(one.failed > 0 and one.failed < 120, "the seed gives some failing replicates")
    same(one, two, method)
    same(one, three, method)
  end
  local one = sv.validate.cv(y, picky_sel, {k = 5, repeats = 3, seed = 2, record = true, threads = 1})
  local two = sv.validate.cv(y, picky_sel, {k = 5, repeats = 3, seed = 2, record = true, threads = 2})
  same(one, two, "cv")
  T.raises(function() sv.validate.bootstrap(y, fit, {B = 2, threads = -1}) end,
    "bad option 'threads' to validate.bootstrap")
  T.raises(function() sv.validate.cv(y, fit, {threads = 1.5}) end, "bad option 'threads' to validate.cv")
end)

-- replicate b's rows, as a pipeline can recognise them
local function is_replicate(rows, b, seed)
  local want = sv._validate.resample(n, seed, b)
  for i = 1, n do if rows[i] ~= want[i] then return false end end
  return true
end

T.test("a worker process that dies is an error naming its replicate, never a hang or a silent loss", function()
  -- killed (as by the OOM killer or kill -9): the pipeline's shell kills its own worker
  T.raises(function()
    sv.validate.bootstrap(y, function(rows)
      if is_replicate(rows, 5, 1) then os.execute("kill -9 $PPID") end
      return fit(rows)
    end, {B = 8, seed = 1, threads = 2})
  end, "the worker process running replicate 5 was killed by signal 9")
  -- a pipeline that ends the process
  T.raises(function()
    sv.validate.bootstrap(y, function(rows)
      if is_replicate(rows, 3, 1) then os.exit(7) end
      return fit(rows)
    end, {B = 6, seed = 1, threads = 2})
  end, "the worker process running replicate 3 exited with status 7")
  T.raises(function()
    sv.validate.cv(y, function(rows)
      if #rows < n and rows[1] ~= 1 and rows[2] ~= 2 then os.exit(2) end
      return fit(rows)
    end, {k = 2, repeats = 1, seed = 1, threads = 2})
  end, "exited with status 2")
  -- a result that cannot cross the pipe names its type
  T.raises(function()
    sv.validate.bootstrap(y, function(rows)
      local score = fit(rows)
      return score, {features = {print}}
    end, {B = 3, seed = 1, threads = 2})
  end, "holds a function, which cannot be sent from a worker process")
  -- the machinery still works afterwards
  local v = sv.validate.bootstrap(y, fit, {B = 4, seed = 1, threads = 2})
  T.eq(v.failed, 0)
end)

T.done()
