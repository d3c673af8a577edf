-- test_shap.lua - sv.shap through the Lua API: xgboost's TreeSHAP as the
-- external oracle (fixtures from tests/oracle/shap_xgboost.py), a Lua
-- brute-force oracle over all coalitions on a trained forest, additivity
-- against f:predict, thread invariance, the helpers and argument errors.
local T = require "testing"
local sv = require "sylva"

local fx = T.root .. "/tests/fixtures/shap/"

local function read_csv(path)
  local rows, header = {}, nil
  for line in io.lines(path) do
    local r = {}
    for v in (line .. ","):gmatch("([^,]*),") do r[#r + 1] = v end
    if not header then header = r
    else
      for j = 1, #r do r[j] = assert(tonumber(r[j])) end
      rows[#rows + 1] = r
    end
  end
  return rows, header
end

local f = sv.forest.load(fx .. "forest.svf")
local Xrows, names = read_csv(fx .. "X.csv")
local X = sv.matrix(Xrows, names)
local n, p = X:nrow(), X:ncol()

T.test("the fixture forest exports to the JSON xgboost explained (same trees)", function()
  local out = T.tmp .. "/shap_forest.json"
  f:export_json(out)
  T.ok(T.read_file(out) == T.read_file(fx .. "forest.json"), "export differs from the fixture")
end)

-- xgboost computes in float32 (leaf values value/T, covers and the path
-- weights), so each SHAP value carries about T * depth float32 roundings of
-- numbers below 1: 1e-6 absolute is >10x the largest difference observed
-- (5e-8 for values, 9e-8 for interactions) and far below a typical value
-- (1e-3..1e-1).
local TOL32 = 1e-6

T.test("path-dependent values agree with xgboost pred_contribs (float32)", function()
  local xc = read_csv(fx .. "xgb_contribs.csv")
  for _, alg in ipairs({"auto", "linear", "reference", "table"}) do
    local phi, base = sv.shap.tree(f, X, {algorithm = alg})
    T.eq(phi:nrow(), n)
    T.eq(phi:ncol(), p)
    T.eq(phi:names()[1], "age")
    local worst = 0
    for i = 1, n do
      for j = 1, p do worst = math.max(worst, math.abs(phi:get(i, j) - xc[i][j])) end
      T.near(base, xc[i][p + 1], TOL32, "bias")
    end
    print(("%s vs xgboost pred_contribs: max diff %.3g"):format(alg, worst))
    T.ok(worst <= TOL32, ("%s: max |sylva - xgboost| = %.3g"):format(alg, worst))
  end
end)

T.test("interaction values agree with xgboost pred_interactions (float32)", function()
  local xi = read_csv(fx .. "xgb_interactions.csv")
  local I, base = sv.shap.interactions(f, X)
  T.eq(I:nrow(), n)
  T.eq(I:nfeatures(), p)
  local q = p + 1 -- xgboost's matrices carry the bias as a last row/column
  local worst = 0
  for i = 1, n do
    for j = 1, p do
      for k = 1, p do
        worst = math.max(worst, math.abs(I:get(i, j, k) - xi[i][(j - 1) * q + k]))
      end
    end
    T.near(base, xi[i][q * q], TOL32, "bias")
  end
  print(("interactions vs xgboost pred_interactions: max diff %.3g"):format(worst))
  T.ok(worst <= TOL32, ("max |sylva - xgboost| = %.3g"):format(worst))
end)

T.test("base + row sum == f:predict to 1e-12 for all 686 gbsg-like rows and every algorithm", function()
  -- every row of the fixture plus perturbed copies (other leaves)
  local rows = {}
  for i = 1, n do
    rows[#rows + 1] = Xrows[i]
    local r = {}
    for j = 1, p do r[j] = Xrows[i][j] + ((i + j) % 3 - 1) end
    rows[#rows + 1] = r
  end
  local XX = sv.matrix(rows, names)
  local pred = f:predict(XX)
  for _, alg in ipairs({"linear", "reference", "table"}) do
    local phi, base = sv.shap.tree(f, XX, {algorithm = alg})
    local tol = alg == "reference" and 1e-11 or 1e-12 -- see test_shap.c
    for i = 1, #rows do
      local s = base
      for j = 1, p do s = s + phi:get(i, j) end
      T.near(s, pred[i], tol, alg .. " row " .. i)
    end
  end
  local I = sv.shap.interactions(f, XX)
  local V = I:values()
  local phi = sv.shap.tree(f, XX)
  for i = 1, #rows do
    for j = 1, p do
      T.near(V:get(i, j), phi:get(i, j), 1e-12, "interaction row sum")
      for k = 1, p do T.eq(I:get(i, j, k), I:get(i, k, j), "symmetry") end
    end
  end
end)

T.test("values are bitwise identical for threads = 1, 2 and 3", function()
  local a = sv.shap.tree(f, X, {threads = 1})
  local ia = sv.shap.interactions(f, X, {threads = 1})
  local B = sv.matrix({Xrows[3], Xrows[7], Xrows[11]})
  local va = sv.shap.tree(f, X, {threads = 1, background = B})
  for threads = 2, 3 do
    local b = sv.shap.tree(f, X, {threads = threads})
    local ib = sv.shap.interactions(f, X, {threads = threads})
    local vb = sv.shap.tree(f, X, {threads = threads, background = B})
    for i = 1, n do
      for j = 1, p do
        T.ok(a:get(i, j) == b:get(i, j))
        T.ok(va:get(i, j) == vb:get(i, j))
        for k = 1, p do T.ok(ia:get(i, j, k) == ib:get(i, j, k)) end
      end
    end
  end
end)

-- ---- a Lua brute-force oracle on a small trained forest -------------------

-- Data from a fixed LCG: 4 features on a coarse grid, the last one constant
-- (never split on), y depending on the first two.
local function lcg(seed)
  local s = seed
  return function()
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  end
end
local u = lcg(11)
local Xs, ys = {}, {}
for i = 1, 120 do
  local r = {math.floor(u() * 8), math.floor(u() * 8), math.floor(u() * 4), 5}
  Xs[i] = r
  ys[i] = (r[1] + r[2] + 2 * u() > 8) and 1 or 0
end
local small = sv.forest.train(sv.matrix(Xs, {"a", "b", "c", "k"}), ys, {trees = 7, seed = 3, mtry = 2})
local trees = {}
for k = 1, small:ntrees() do trees[k] = small:tree(k) end

-- path-dependent E[tree | x_S] (S a set of 1-based feature indices)
local function cond(t, node, x, S)
  local id = node + 1
  if t.left[id] < 0 then return t.value[id] end
  local j = t.feature[id] + 1
  local l, r = t.left[id], t.right[id]
  if S[j] then return cond(t, x[j] <= t.threshold[id] and l or r, x, S) end
  return t.cover[l + 1] / t.cover[id] * cond(t, l, x, S) + t.cover[r + 1] / t.cover[id] * cond(t, r, x, S)
end

local function leaf(t, x)
  local id = 1
  while t.left[id] >= 0 do
    id = (x[t.feature[id] + 1] <= t.threshold[id] and t.left[id] or t.right[id]) + 1
  end
  return t.value[id]
end

local function fact(k) local r = 1 for i = 2, k do r = r * i end return r end

-- Shapley values of the game v over features 1..q
local function shapley(q, v)
  local phi = {}
  for j = 1, q do
    local s = 0
    for mask = 0, (1 << q) - 1 do
      if mask & (1 << (j - 1)) == 0 then
        local k = 0
        for b = 0, q - 1 do if mask & (1 << b) ~= 0 then k = k + 1 end end
        s = s + fact(k) * fact(q - k - 1) / fact(q) * (v(mask | (1 << (j - 1))) - v(mask))
      end
    end
    phi[j] = s
  end
  return phi
end

local function set_of(mask, q)
  local S = {}
  for b = 0, q - 1 do if mask & (1 << b) ~= 0 then S[b + 1] = true end end
  return S
end

T.test("a trained forest against the Lua brute-force oracle (path-dependent and interventional, 1e-10)", function()
  local q = 4
  local rows = {Xs[1], Xs[2], Xs[50], {3, 4, 1, 5}, {7, 0, 3, 5}, {0, 7, 2, 5}}
  local B = {Xs[5], Xs[9], Xs[77], {1, 1, 1, 5}}
  local phi, base = sv.shap.tree(small, rows)
  local phir = sv.shap.tree(small, rows, {algorithm = "reference"})
  local phii, basei = sv.shap.tree(small, rows, {background = B})
  local worst = 0
  for i, x in ipairs(rows) do
    local function vpath(mask)
      local S, s = set_of(mask, q), 0
      for _, t in ipairs(trees) do s = s + cond(t, 0, x, S) end
      return s / #trees
    end
    local function vint(mask)
      local S, s = set_of(mask, q), 0
      for _, b in ipairs(B) do
        local z = {}
        for j = 1, q do z[j] = S[j] and x[j] or b[j] end
        for _, t in ipairs(trees) do s = s + leaf(t, z) end
      end
      return s / (#trees * #B)
    end
    T.near(base, vpath(0), 1e-12, "base")
    T.near(basei, vint(0), 1e-12, "interventional base")
    local o, oi = shapley(q, vpath), shapley(q, vint)
    for j = 1, q do
      worst = math.max(worst, math.abs(phi:get(i, j) - o[j]), math.abs(phir:get(i, j) - o[j]),
                       math.abs(phii:get(i, j) - oi[j]))
    end
    -- the constant feature k is never split on: exactly zero
    T.eq(phi:get(i, 4), 0.0)
    T.eq(phii:get(i, 4), 0.0)
  end
  print(("Lua brute-force oracle: max diff %.3g"):format(worst))
  T.ok(worst <= 1e-10, ("max |sylva - oracle| = %.3g"):format(worst))
end)

T.test("importance ranks by mean |phi| and dependence returns the feature's columns", function()
  local phi = sv.shap.tree(f, X)
  local imp = sv.shap.importance(phi)
  T.eq(#imp, p)
  for k, r in ipairs(imp) do
    local s = 0
    for i = 1, n do s = s + math.abs(phi:get(i, r.index)) end
    T.near(r.value, s / n, 1e-15)
    T.eq(r.name, names[r.index])
    if k > 1 then T.ok(imp[k - 1].value >= r.value, "sorted") end
  end
  local d = sv.shap.dependence(phi, X, "nodes")
  T.eq(d.name, "nodes")
  T.eq(d.index, 5)
  T.eq(#d.x, n)
  for i = 1, n do
    T.eq(d.x[i], X:get(i, 5))
    T.eq(d.shap[i], phi:get(i, 5))
  end
  T.eq(sv.shap.dependence(phi, X, 2).name, "meno")
  local I = sv.shap.interactions(f, X)
  local R = I:row(2)
  T.eq(R:nrow(), p)
  T.eq(R:names()[8], "hormon")
  T.eq(R:get(3, 5), I:get(2, 3, 5))
  local tab = I:totable()
  T.eq(tab[4][2][6], I:get(4, 2, 6))
end)

T.test("argument errors name the function and the argument", function()
  T.raises(function() sv.shap.tree(f, X, {treads = 1}) end, "unknown option 'treads' to shap.tree")
  T.raises(function() sv.shap.tree(f, X, {algorithm = "fast"}) end, "bad option 'algorithm'")
  T.raises(function() sv.shap.tree(f, {{1, 2, 3}}) end, "X has 3 columns, the forest was trained on 8")
  local bad = {}
  for j = 1, p do bad[j] = 1 end
  bad[3] = 0 / 0
  T.raises(function() sv.shap.tree(f, {bad}) end, "NaN at row 1, column 3")
  T.raises(function() sv.shap.tree(f, X, {background = {{1, 2}}}) end, "bad option 'background'")
  T.raises(function() sv.shap.tree(X, X) end, "Forest expected")
  T.raises(function() sv.shap.interactions(f, X, {background = X}) end, "unknown option 'background'")
  T.raises(function() sv.shap.dependence(sv.shap.tree(f, X), X, "zz") end, "no feature named 'zz'")
  local I = sv.shap.interactions(f, X)
  T.raises(function() I:get(n + 1, 1, 1) end, "out of range")
end)

T.done()
