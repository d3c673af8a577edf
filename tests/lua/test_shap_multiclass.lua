-- test_shap_multiclass.lua - TreeSHAP per class of a K = 3 forest (and of
-- a regression forest) against a brute-force Shapley oracle written here
-- over all coalitions: path-dependent values (both algorithms),
-- interventional values, interaction values (row sums), additivity per
-- class to 1e-12.
local T = require "testing"
local sv = require "sylva"

local function lcg(seed)
  local s = seed
  return function()
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  end
end
local u = lcg(7)
local Xs, ys, yr = {}, {}, {}
for i = 1, 150 do
  local r = {math.floor(u() * 8), math.floor(u() * 8), math.floor(u() * 4), 5}
  Xs[i] = r
  local s = r[1] + r[2] + 2 * u()
  ys[i] = s < 6 and "zero" or s < 10 and "low" or "positive"
  yr[i] = r[1] * 1.5 - r[2] + r[3] * r[1] / 4 + u()
end
local X = sv.matrix(Xs, {"a", "b", "c", "k"})
local f3 = sv.forest.train(X, ys, {trees = 6, seed = 4, mtry = 2})
local fr = sv.forest.regress(X, yr, {trees = 5, seed = 4, mtry = 2})

-- path-dependent E[tree | x_S] for output c (c = nil: a scalar value)
local function cond(t, node, x, S, c)
  local id = node + 1
  if t.left[id] < 0 then return c and t.value[id][c] or t.value[id] end
  local j = t.feature[id] + 1
  local l, r = t.left[id], t.right[id]
  if S[j] then return cond(t, x[j] <= t.threshold[id] and l or r, x, S, c) end
  return t.cover[l + 1] / t.cover[id] * cond(t, l, x, S, c) + t.cover[r + 1] / t.cover[id] * cond(t, r, x, S, c)
end
local function leaf(t, x, c)
  local id = 1
  while t.left[id] >= 0 do
    id = (x[t.feature[id] + 1] <= t.threshold[id] and t.left[id] or t.right[id]) + 1
  end
  return c and t.value[id][c] or t.value[id]
end
local function fact(k) local r = 1 for i = 2, k do r = r * i end return r end
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

local rows = {Xs[1], Xs[2], Xs[60], {3, 4, 1, 5}, {7, 0, 3, 5}, {0, 7, 2, 5}}
local B = {Xs[5], Xs[9], Xs[77], {1, 1, 1, 5}}

local function check(f, c, phi, base, phir, phii, basei, I)
  local trees = {}
  for k = 1, f:ntrees() do trees[k] = f:tree(k) end
  local q, worst = 4, 0
  local P = f:predict(rows)
  for i, x in ipairs(rows) do
    local function vpath(mask)
      local S, s = set_of(mask, q), 0
      for _, t in ipairs(trees) do s = s + cond(t, 0, x, S, c) end
      return s / #trees
    end
    local function vint(mask)
      local S, s = set_of(mask, q), 0
      for _, b in ipairs(B) do
        local z = {}
        for j = 1, q do z[j] = S[j] and x[j] or b[j] end
        for _, t in ipairs(trees) do s = s + leaf(t, z, c) end
      end
      return s / (#trees * #B)
    end
    T.near(base, vpath(0), 1e-12, "base")
    T.near(basei, vint(0), 1e-12, "interventional base")
    local o, oi = shapley(q, vpath), shapley(q, vint)
    local sum, sumi = base, basei
    for j = 1, q do
      worst = math.max(worst, math.abs(phi:get(i, j) - o[j]), math.abs(phir:get(i, j) - o[j]),
                       math.abs(phii:get(i, j) - oi[j]))
      local rs = 0
      for k = 1, q do rs = rs + I:get(i, j, k) end
      worst = math.max(worst, math.abs(rs - o[j]))
      sum, sumi = sum + phi:get(i, j), sumi + phii:get(i, j)
    end
    local pred = c and P:get(i, c) or P[i]
    T.near(sum, pred, 1e-12 * math.max(1, math.abs(pred)), "additivity")
    T.near(sumi, pred, 1e-12 * math.max(1, math.abs(pred)), "interventional additivity")
    T.eq(phi:get(i, 4), 0.0)
  end
  T.ok(worst <= 1e-10 * math.max(1, math.abs(base)), ("max |sylva - oracle| = %.3g"):format(worst))
end

T.test("K = 3: each class against the brute-force oracle (values, interventional, interactions)", function()
  T.eq(#f3:classes(), 3)
  for c = 1, 3 do
    local phi, base = sv.shap.tree(f3, rows, {class = c})
    local phir = sv.shap.tree(f3, rows, {class = c, algorithm = "reference"})
    local phii, basei = sv.shap.tree(f3, rows, {class = c, background = B})
    local I = sv.shap.interactions(f3, rows, {class = c})
    check(f3, c, phi, base, phir, phii, basei, I)
    local phit = sv.shap.tree(f3, rows, {class = c, algorithm = "table"})
    check(f3, c, phit, base, phir, phii, basei, I)
  end
end)

T.test("K = 3 without class: arrays of K phi and K bases; bases sum to 1", function()
  local phis, bases = sv.shap.tree(f3, rows)
  T.eq(#phis, 3); T.eq(#bases, 3)
  T.near(bases[1] + bases[2] + bases[3], 1, 1e-12)
  for c = 1, 3 do
    local one, b = sv.shap.tree(f3, rows, {class = c})
    T.eq(bases[c], b)
    for i = 1, #rows do for j = 1, 4 do T.eq(phis[c]:get(i, j), one:get(i, j)) end end
  end
  -- per row and feature the class SHAP values sum to 0 (probabilities sum to 1)
  for i = 1, #rows do
    for j = 1, 4 do
      T.near(phis[1]:get(i, j) + phis[2]:get(i, j) + phis[3]:get(i, j), 0, 1e-12)
    end
  end
  local Is, ib = sv.shap.interactions(f3, rows)
  T.eq(#Is, 3); T.eq(ib[2], bases[2])
  T.raises(function() sv.shap.tree(f3, rows, {class = 4}) end, "class")
  local y01 = {}
  for i = 1, #ys do y01[i] = ys[i] == "zero" and 0 or 1 end
  local bin = sv.forest.train(X, y01, {trees = 2})
  T.raises(function() sv.shap.tree(bin, rows, {class = 1}) end,
           "only a forest of more than 2 classes takes a class")
end)

T.test("regression forest against the brute-force oracle", function()
  local phi, base = sv.shap.tree(fr, rows)
  local phir = sv.shap.tree(fr, rows, {algorithm = "reference"})
  local phii, basei = sv.shap.tree(fr, rows, {background = B})
  local I = sv.shap.interactions(fr, rows)
  check(fr, nil, phi, base, phir, phii, basei, I)
end)

T.done()
