-- Determinism (docs/reliability.md): the forest (predictions, OOB,
-- importances, the model file's bytes), TreeSHAP (path-dependent,
-- interventional, interactions), bootstrap CIs, tuning and the whole HER2
-- study give bitwise identical results with threads = 1, 2 and 7, and in
-- another process. Results are compared by SHA-256 over the IEEE-754 bits
-- of every number (not printed decimals), so one flipped bit fails.
local T = require "testing"
local sv = require "sylva"

local bin = os.getenv("SYLVA_BIN") or "sylva"
local tmp = T.tmp

-- Canonical bytes of a result: numbers as their 8 bytes (integers tagged),
-- strings, booleans, tables with sorted keys, Vectors and Matrices element
-- by element.
local function serialize(v, out)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = "i" .. string.pack("<i8", v)
    else out[#out + 1] = "d" .. string.pack("<d", v) end
  elseif t == "string" then out[#out + 1] = "s" .. string.pack("<s4", v)
  elseif t == "boolean" then out[#out + 1] = v and "T" or "F"
  elseif t == "nil" then out[#out + 1] = "N"
  elseif t == "userdata" and v.nrow then
    out[#out + 1] = "M" .. string.pack("<i8i8", v:nrow(), v:ncol())
    for j = 1, v:ncol() do
      for i = 1, v:nrow() do out[#out + 1] = string.pack("<d", v:get(i, j)) end
    end
  elseif t == "userdata" and v.totable then
    out[#out + 1] = "V" .. string.pack("<i8", #v)
    for i = 1, #v do out[#out + 1] = string.pack("<d", v[i]) end
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) < type(b) end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      serialize(k, out)
      serialize(v[k], out)
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = "?" .. t
  end
end

local function digest(v)
  local out = {}
  serialize(v, out)
  return sv.sha256(table.concat(out))
end

-- 400 rows, 6 features, a non-linear outcome: deep enough trees that a
-- reordering of floating-point sums would show.
local function data()
  local r = sv.rng(20240601)
  local X, y = {}, {}
  for i = 1, 400 do
    local row = {}
    for j = 1, 6 do row[j] = r:normal() end
    row[6] = math.floor(row[6] * 2) -- ties
    X[i] = row
    local eta = row[1] - 0.7 * row[2] * row[3] + 0.3 * row[6] + r:normal()
    y[i] = eta > 0 and 1 or 0
  end
  return sv.matrix(X, {"a", "b", "c", "d", "e", "f"}), y
end

-- Every result, computed with `threads`; returns {name = sha256}.
local function results(threads)
  local X, y = data()
  local h = {}
  local f = sv.forest.train(X, y, {trees = 60, seed = 11, threads = threads})
  h.predict = digest(f:predict(X, {threads = threads}))
  h.oob = digest(f:oob_predict())
  h.impurity = digest(f:importance("impurity"))
  h.permutation = digest({f:importance("permutation", {repeats = 3, seed = 5, threads = threads})})
  local path = ("%s/determinism_t%d.bin"):format(tmp, threads)
  f:save(path)
  h.model_file = sv.sha256_file(path)
  os.remove(path)
  local rows = X:rows((function() local t = {} for i = 1, 120 do t[i] = i end return t end)())
  local small = X:rows({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  local bg = X:rows({201, 202, 203, 204, 205, 206, 207, 208, 209, 210})
  h.shap = digest({sv.shap.tree(f, rows, {threads = threads})})
  h.shap_background = digest({sv.shap.tree(f, small, {background = bg, threads = threads})})
  local I = sv.shap.interactions(f, small, {threads = threads})
  local vals = {}
  for i = 1, 12 do for j = 1, 6 do for k = 1, 6 do vals[#vals + 1] = I:get(i, j, k) end end end
  h.shap_interactions = digest(vals)
  local p = f:oob_predict()
  local yy, pp = {}, {}
  for i = 1, #p do if p[i] == p[i] then yy[#yy + 1] = y[i]; pp[#pp + 1] = p[i] end end
  h.auc_bootstrap = digest(sv.roc.auc(yy, pp, {ci = "bootstrap", boot = 300, seed = 7, threads = threads}))
  local grid = sv.tune.grid(X, y, {min_leaf = {1, 8}}, {k = 3, seed = 3, progress = false,
    forest = {trees = 15, threads = threads}})
  h.tune = digest({grid.results, grid.best_index})
  return h
end

local names = {"predict", "oob", "impurity", "permutation", "model_file", "shap",
               "shap_background", "shap_interactions", "auc_bootstrap", "tune"}

if arg and arg[1] == "child" then
  -- Another process: print the digests with 2 threads.
  local h = results(2)
  for _, k in ipairs(names) do print("DIGEST", k, h[k]) end
  os.exit(0, true)
end

local by_threads = {}
T.test("forest, SHAP, bootstrap CI and tuning: same bits with 1, 2 and 7 threads", function()
  for _, t in ipairs({1, 2, 7}) do by_threads[t] = results(t) end
  for _, k in ipairs(names) do
    T.eq(by_threads[2][k], by_threads[1][k], k .. ": 2 threads vs 1")
    T.eq(by_threads[7][k], by_threads[1][k], k .. ": 7 threads vs 1")
  end
end)

T.test("the same digests in another process", function()
  local script = T.root .. "/tests/lua/test_determinism.lua"
  local p = assert(io.popen(("%q %q child 2>&1"):format(bin, script)))
  local out = p:read("a")
  p:close()
  local seen = 0
  for k, d in out:gmatch("DIGEST\t(%S+)\t(%x+)") do
    seen = seen + 1
    T.eq(d, by_threads[1][k], k .. " in a second process")
  end
  T.eq(seen, #names, out)
end)

T.test("a digest sees one flipped bit (the comparison can fail)", function()
  local v = sv.vector({0.1, 0.2})
  local w = sv.vector({0.1, 0.2})
  T.eq(digest(v), digest(w))
  w[2] = 0.2 + 2^-54 * 2 -- the next double after 0.2
  T.ok(w[2] ~= 0.2)
  T.ok(digest(v) ~= digest(w))
end)

-- The whole HER2 study (quick mode, as test_her2_study.lua runs it with 1
-- and 2 threads): with 7 threads every file it writes (report.json, .md,
-- .html, tables, figures) is the same bytes as with 1.
local function run_study(threads)
  local out = ("%s/determinism_study_t%d"):format(tmp, threads)
  os.execute(("rm -rf %q"):format(out))
  local cmd = ("cd %q && SOURCE_DATE_EPOCH=0 %q study examples/her2/study.lua --quick --threads %d --out %q > %q 2>&1")
    :format(T.root, bin, threads, out, out .. ".log")
  T.ok(os.execute(cmd), "study with " .. threads .. " threads: see " .. out .. ".log")
  return out
end

T.test("the HER2 study: every output file identical with 1 and 7 threads", function()
  local a, b = run_study(1), run_study(7)
  local p = assert(io.popen(("cd %q && find . -type f | sort"):format(a)))
  local files = {}
  for l in p:lines() do files[#files + 1] = l end
  p:close()
  T.ok(#files >= 2, "the study wrote its results")
  for _, name in ipairs(files) do
    T.eq(sv.sha256_file(b .. "/" .. name), sv.sha256_file(a .. "/" .. name), name)
  end
end)

T.done()
