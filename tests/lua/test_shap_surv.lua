-- test_shap_surv.lua - exact TreeSHAP of a survival forest's risk
-- (sf:predict, the ensemble mortality):
-- - leaf values: one tree grown on every row (no bootstrap) holds at each
--   leaf the mortality of its rows' Nelson-Aalen estimate, summed over the
--   forest's time grid, recomputed here in Lua from the data;
-- - a Lua brute-force oracle over all 2^p coalitions: the path-dependent
--   game from the exported trees (sf:tree), the interventional game from
--   sf:predict alone (no tree internals);
-- - additivity base + sum(phi) = sf:predict on gbsg (1e-12, relative to
--   the risk's size), for both algorithms, with a background, and for the
--   interaction values (rows summing to phi);
-- - SHAP values of the cumulative hazard at a time ({time = t}): the leaf
--   values of unbootstrapped trees recomputed in Lua as the Nelson-Aalen
--   estimate at t of each leaf's rows, the brute-force oracle (the
--   path-dependent game on those Lua leaf values, the interventional game
--   from sf:chf alone), and additivity base + sum(phi) = sf:chf(X, {t}),
--   exp(-(base + sum phi)) = sf:survival(X, {t}), on gbsg, also after a
--   save and load (leaf curves read from the file);
-- - argument errors.
local T = require "testing"
local sv = require "sylva"

-- Data from a fixed LCG: 4 features on a coarse grid, the last constant
-- (never split on), the hazard rising with the first two.
local function lcg(seed)
  local s = seed
  return function()
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  end
end
local u = lcg(7)
local Xs, times, events = {}, {}, {}
for i = 1, 150 do
  local r = {math.floor(u() * 8), math.floor(u() * 8), math.floor(u() * 4), 5}
  Xs[i] = r
  local rate = 0.05 * math.exp(0.3 * r[1] + 0.2 * r[2])
  times[i] = math.floor(-math.log(1 - u()) / rate * 10) / 10 + 0.1
  events[i] = u() < 0.7 and 1 or 0
end
local Xm = sv.matrix(Xs, {"a", "b", "c", "k"})

-- the leaf reached by x in an exported tree (1-based node index)
local function leaf_id(t, x)
  local id = 1
  while t.left[id] >= 0 do
    id = (x[t.feature[id] + 1] <= t.threshold[id] and t.left[id] or t.right[id]) + 1
  end
  return id
end

T.test("a leaf's value is the mortality of its rows' Nelson-Aalen estimate over the grid", function()
  local sf = sv.forest.survival(Xm, times, events, {trees = 1, bootstrap = false, sample_fraction = 1,
                                                    mtry = 4, min_leaf = 5, seed = 1})
  local t = sf:tree(1)
  -- the grid: sorted unique observed times of all rows
  local seen, grid = {}, {}
  for i = 1, #times do if not seen[times[i]] then seen[times[i]] = true; grid[#grid + 1] = times[i] end end
  table.sort(grid)
  local members = {}
  for i, x in ipairs(Xs) do
    local id = leaf_id(t, x)
    members[id] = members[id] or {}
    table.insert(members[id], i)
  end
  local nleaves = 0
  for id, rows in pairs(members) do
    nleaves = nleaves + 1
    -- Nelson-Aalen at each grid time, summed
    local H, mort = 0, 0
    for _, g in ipairs(grid) do
      local at_risk, d = 0, 0
      for _, i in ipairs(rows) do
        if times[i] >= g then at_risk = at_risk + 1 end
        if times[i] == g and events[i] == 1 then d = d + 1 end
      end
      if d > 0 then H = H + d / at_risk end
      mort = mort + H
    end
    T.near(t.value[id], mort, 1e-12, "leaf " .. id, true)
    T.eq(t.cover[id], #rows)
  end
  T.ok(nleaves >= 4, "the tree splits")
end)

-- a small forest for the brute-force oracle
local small = sv.forest.survival(Xm, times, events, {trees = 6, seed = 3, mtry = 2, min_leaf = 4})
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

T.test("the exported trees give sf:predict (the risk)", function()
  local pred = small:predict(Xm)
  for i, x in ipairs(Xs) do
    local s = 0
    for _, t in ipairs(trees) do s = s + t.value[leaf_id(t, x)] end
    T.near(s / #trees, pred[i], 1e-12, "row " .. i, true)
  end
end)

T.test("a survival forest against the Lua brute-force Shapley oracle (path-dependent and interventional)", function()
  local q = 4
  local rows = {Xs[1], Xs[2], Xs[60], {3, 4, 1, 5}, {7, 0, 3, 5}, {0, 7, 2, 5}}
  local B = {Xs[5], Xs[9], Xs[77], {1, 1, 1, 5}}
  local phi, base = sv.shap.tree(small, rows)
  local phir, baser = sv.shap.tree(small, rows, {algorithm = "reference"})
  local phit = sv.shap.tree(small, rows, {algorithm = "table"})
  local phii, basei = sv.shap.tree(small, rows, {background = B})
  local I = sv.shap.interactions(small, rows)
  local worst, scale = 0, 0
  for i, x in ipairs(rows) do
    local function vpath(mask)
      local S, s = set_of(mask, q), 0
      for _, t in ipairs(trees) do s = s + cond(t, 0, x, S) end
      return s / #trees
    end
    -- interventional: mean over b of the forest's own prediction at (x_S, b_notS)
    local function vint(mask)
      local S, Z = set_of(mask, q), {}
      for k, b in ipairs(B) do
        local z = {}
        for j = 1, q do z[j] = S[j] and x[j] or b[j] end
        Z[k] = z
      end
      local pr, s = small:predict(Z), 0
      for k = 1, #B do s = s + pr[k] end
      return s / #B
    end
    scale = math.max(scale, math.abs(vpath(0)))
    T.near(base, vpath(0), 1e-12, "base", true)
    T.eq(baser, base)
    T.near(basei, vint(0), 1e-12, "interventional base", true)
    T.near(I:base(), base, 1e-12, "interaction base", true)
    local o, oi = shapley(q, vpath), shapley(q, vint)
    for j = 1, q do
      local rowsum = 0
      for k = 1, q do rowsum = rowsum + I:get(i, j, k) end
      worst = math.max(worst, math.abs(phi:get(i, j) - o[j]), math.abs(phir:get(i, j) - o[j]),
                       math.abs(phit:get(i, j) - o[j]),
                       math.abs(phii:get(i, j) - oi[j]), math.abs(rowsum - o[j]))
    end
    -- the constant feature k is never split on: exactly zero
    T.eq(phi:get(i, 4), 0.0)
    T.eq(phii:get(i, 4), 0.0)
  end
  print(("survival brute-force oracle: max diff %.3g (risk scale %.3g)"):format(worst, scale))
  T.ok(worst <= 1e-10 * math.max(1, scale), ("max |sylva - oracle| = %.3g"):format(worst))
end)

-- gbsg (the survival forest fixture's rows) and a 30-tree survival forest on it.
local function gbsg_forest()
  local c = T.read_fixture(T.root .. "/tests/fixtures/survforest/gbsg_data.csv")
  local xs = {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"}
  local rows = {}
  for i = 1, #c.time do
    local r = {}
    for j, nm in ipairs(xs) do r[j] = c[nm][i] end
    rows[i] = r
  end
  local X = sv.matrix(rows, xs)
  return X, rows, xs, sv.forest.survival(X, c.time, c.event, {trees = 30, seed = 5})
end

T.test("additivity on gbsg: base + sum(phi) = sf:predict to 1e-12 of the risk", function()
  local X, rows, xs, sf = gbsg_forest()
  local pred = sf:predict(X)
  local n, p = X:nrow(), X:ncol()
  local B = sv.matrix({rows[1], rows[10], rows[100], rows[300], rows[500]}, xs)
  local worst, absw, maxp = 0, 0, 0
  for _, o in ipairs({{}, {algorithm = "reference"}, {background = B}}) do
    local phi, base = sv.shap.tree(sf, X, o)
    T.eq(phi:names()[5], "nodes")
    for i = 1, n do
      local s = base
      for j = 1, p do s = s + phi:get(i, j) end
      local d = math.abs(s - pred[i]) / math.max(1, math.abs(pred[i]))
      absw = math.max(absw, math.abs(s - pred[i]))
      maxp = math.max(maxp, math.abs(pred[i]))
      worst = math.max(worst, d)
    end
  end
  local some = sv.matrix({rows[1], rows[2], rows[3]}, xs)
  local I, ibase = sv.shap.interactions(sf, some)
  local V = I:values()
  local ps = sf:predict(some)
  for i = 1, 3 do
    local s = ibase
    for j = 1, p do s = s + V:get(i, j) end
    worst = math.max(worst, math.abs(s - ps[i]) / math.max(1, math.abs(ps[i])))
  end
  print(("survival additivity: max relative error %.3g (absolute %.3g, risks up to %.4g)"):format(worst, absw, maxp))
  T.ok(worst <= 1e-12, ("additivity error %.3g"):format(worst))
  -- thread invariance
  local a = sv.shap.tree(sf, X, {threads = 1})
  local b = sv.shap.tree(sf, X, {threads = 2})
  for i = 1, n, 37 do for j = 1, p do T.eq(a:get(i, j), b:get(i, j)) end end
end)

-- Nelson-Aalen estimate at t of the given rows (the data's own times)
local function na_at(rows, t)
  local seen, ts = {}, {}
  for _, i in ipairs(rows) do
    if events[i] == 1 and times[i] <= t and not seen[times[i]] then seen[times[i]] = true; ts[#ts + 1] = times[i] end
  end
  local H = 0
  for _, g in ipairs(ts) do
    local at_risk, d = 0, 0
    for _, i in ipairs(rows) do
      if times[i] >= g then at_risk = at_risk + 1 end
      if times[i] == g and events[i] == 1 then d = d + 1 end
    end
    H = H + d / at_risk
  end
  return H
end

T.test("{time = t}: the cumulative hazard at t against the Lua brute-force Shapley oracle", function()
  -- unbootstrapped trees on every row (random mtry, so they differ): each
  -- leaf's CHF at t is recomputed in Lua from its rows
  local nb = sv.forest.survival(Xm, times, events, {trees = 4, bootstrap = false, sample_fraction = 1,
                                                    mtry = 2, min_leaf = 4, seed = 11})
  local nbt, members = {}, {}
  for k = 1, nb:ntrees() do
    nbt[k] = nb:tree(k)
    members[k] = {}
    for i, x in ipairs(Xs) do
      local id = leaf_id(nbt[k], x)
      members[k][id] = members[k][id] or {}
      table.insert(members[k][id], i)
    end
  end
  local q = 4
  local rows = {Xs[1], Xs[2], Xs[60], {3, 4, 1, 5}, {7, 0, 3, 5}, {0, 7, 2, 5}}
  local B = {Xs[5], Xs[9], Xs[77], {1, 1, 1, 5}}
  local sorted = {}
  for i = 1, #times do sorted[i] = times[i] end
  table.sort(sorted)
  local worst, nonzero = 0, 0
  -- before the first time, on a grid time, between grid times, after the last
  for _, t in ipairs({sorted[1] / 2, sorted[40], (sorted[75] + sorted[76]) / 2 + 1e-9, sorted[#sorted] + 1}) do
    -- leaf values at t, from the data
    local lv = {}
    for k = 1, #nbt do
      lv[k] = {}
      for id, rs in pairs(members[k]) do lv[k][id] = na_at(rs, t) end
    end
    local function condt(k, node, x, S)
      local tr, id = nbt[k], node + 1
      if tr.left[id] < 0 then return lv[k][id] end
      local j = tr.feature[id] + 1
      local l, r = tr.left[id], tr.right[id]
      if S[j] then return condt(k, x[j] <= tr.threshold[id] and l or r, x, S) end
      return tr.cover[l + 1] / tr.cover[id] * condt(k, l, x, S) + tr.cover[r + 1] / tr.cover[id] * condt(k, r, x, S)
    end
    -- the Lua leaf values reproduce sf:chf at t (the oracle's footing)
    local ch = nb:chf(Xm, {t})
    for i, x in ipairs(Xs) do
      local s = 0
      for k = 1, #nbt do s = s + lv[k][leaf_id(nbt[k], x)] end
      T.near(s / #nbt, ch:get(i, 1), 1e-12, "chf row " .. i, true)
    end
    local phi, base = sv.shap.tree(nb, rows, {time = t})
    local phir, baser = sv.shap.tree(nb, rows, {time = t, algorithm = "reference"})
    local phit = sv.shap.tree(nb, rows, {time = t, algorithm = "table"})
    local phii, basei = sv.shap.tree(nb, rows, {time = t, background = B})
    local I, ibase = sv.shap.interactions(nb, rows, {time = t})
    T.eq(phi:names()[1], "a")
    for i, x in ipairs(rows) do
      local function vpath(mask)
        local S, s = set_of(mask, q), 0
        for k = 1, #nbt do s = s + condt(k, 0, x, S) end
        return s / #nbt
      end
      local function vint(mask)
        local S, Z = set_of(mask, q), {}
        for b, r in ipairs(B) do
          local z = {}
          for j = 1, q do z[j] = S[j] and x[j] or r[j] end
          Z[b] = z
        end
        local c, s = nb:chf(sv.matrix(Z), {t}), 0
        for b = 1, #B do s = s + c:get(b, 1) end
        return s / #B
      end
      T.near(base, vpath(0), 1e-12, "base at " .. t, true)
      T.near(baser, base, 1e-12, "reference base", true)
      T.near(ibase, base, 1e-12, "interaction base", true)
      T.near(basei, vint(0), 1e-12, "interventional base", true)
      local o, oi = shapley(q, vpath), shapley(q, vint)
      for j = 1, q do
        local rowsum = 0
        for k = 1, q do rowsum = rowsum + I:get(i, j, k) end
        worst = math.max(worst, math.abs(phi:get(i, j) - o[j]), math.abs(phir:get(i, j) - o[j]),
                       math.abs(phit:get(i, j) - o[j]),
                         math.abs(phii:get(i, j) - oi[j]), math.abs(rowsum - o[j]))
        if math.abs(o[j]) > 1e-3 then nonzero = nonzero + 1 end
      end
      T.eq(phi:get(i, 4), 0.0)
    end
    if t < sorted[1] then
      -- no death yet: CHF 0 everywhere, so base and every value are 0
      T.eq(base, 0.0)
      for i = 1, #rows do for j = 1, q do T.eq(phi:get(i, j), 0.0) end end
    end
  end
  print(("survival CHF(t) brute-force oracle: max diff %.3g (%d non-negligible values)"):format(worst, nonzero))
  T.ok(nonzero > 20, "the oracle values are not all zero")
  T.ok(worst <= 1e-12, ("max |sylva - oracle| = %.3g"):format(worst))
end)

T.test("{time = t} additivity on gbsg: base + sum(phi) = sf:chf(X, {t}), exp(-(.)) = sf:survival", function()
  local X, rows, xs, sf = gbsg_forest()
  local n, p = X:nrow(), X:ncol()
  local B = sv.matrix({rows[1], rows[10], rows[100], rows[300], rows[500]}, xs)
  local worst, worst_s, minc, zeros, worst0 = 0, 0, math.huge, 0, 0
  for _, t in ipairs({365, 1000, 1826.25, 2500}) do
    local ch, S = sf:chf(X, {t}), sf:survival(X, {t})
    for _, o in ipairs({{time = t}, {time = t, algorithm = "reference"}, {time = t, background = B}}) do
      local phi, base = sv.shap.tree(sf, X, o)
      for i = 1, n do
        local s = base
        for j = 1, p do s = s + phi:get(i, j) end
        local cv = ch:get(i, 1)
        if cv > 0 then
          minc = math.min(minc, cv)
          worst = math.max(worst, math.abs(s - cv) / cv)
        else -- no tree's leaf has a death by t
          zeros, worst0 = zeros + 1, math.max(worst0, math.abs(s))
        end
        worst_s = math.max(worst_s, math.abs(math.exp(-s) - S:get(i, 1)) / S:get(i, 1))
      end
    end
    local some = sv.matrix({rows[1], rows[2], rows[3]}, xs)
    local I, ibase = sv.shap.interactions(sf, some, {time = t})
    local V = I:values()
    for i = 1, 3 do
      local s = ibase
      for j = 1, p do s = s + V:get(i, j) end
      local cv = ch:get(i, 1)
      if cv > 0 then worst = math.max(worst, math.abs(s - cv) / cv)
      else worst0 = math.max(worst0, math.abs(s)) end
    end
  end
  print(("survival CHF(t) additivity: max relative error %.3g (CHF down to %.3g); S(t) relative %.3g; "
         .. "%d rows with CHF 0, |base + sum(phi)| up to %.3g there"):format(worst, minc, worst_s, zeros, worst0))
  T.ok(worst0 <= 1e-14, ("additivity error %.3g where CHF is 0"):format(worst0))
  T.ok(worst <= 1e-12, ("additivity error %.3g"):format(worst))
  T.ok(worst_s <= 1e-12, ("S(t) error %.3g"):format(worst_s))
  local a, abase = sv.shap.tree(sf, X, {time = 1000, threads = 1})
  local b = sv.shap.tree(sf, X, {time = 1000, threads = 2})
  for i = 1, n, 37 do for j = 1, p do T.eq(a:get(i, j), b:get(i, j)) end end
  -- a saved and loaded forest (leaf curves read from the file) gives the same values
  local path = T.tmp .. "/shap_surv_time.svf"
  sf:save(path)
  local l, lbase = sv.shap.tree(sv.forest.load(path), X, {time = 1000})
  T.eq(lbase, abase)
  for i = 1, n, 13 do for j = 1, p do T.eq(l:get(i, j), a:get(i, j)) end end
  os.remove(path)
end)

T.test("argument errors on a survival forest", function()
  T.raises(function() sv.shap.tree(small, {{1, 2, 3}}) end, "X has 3 columns, the forest was trained on 4")
  T.raises(function() sv.shap.tree(small, Xm, {class = 1}) end, "only a forest of more than 2 classes takes a class")
  T.raises(function() small:tree(7) end, "tree index out of range")
  T.raises(function() sv.shap.tree(small, Xm, {time = 0 / 0}) end, "bad option 'time' to shap.tree (NaN is not a valid value)")
  T.raises(function() sv.shap.tree(small, Xm, {time = "1"}) end, "bad option 'time' to shap.tree (number expected, got string)")
  T.raises(function() sv.shap.interactions(small, Xm, {time = 0 / 0}) end, "bad option 'time' to shap.interactions")
  local f = sv.forest.train(sv.matrix({{0}, {1}, {0}, {1}}), {0, 1, 0, 1}, {trees = 2})
  T.raises(function() sv.shap.tree(f, {{0}}, {time = 1}) end,
           "bad option 'time' to shap.tree (only a survival forest takes a time)")
  T.raises(function() sv.shap.interactions(f, {{0}}, {time = 1}) end,
           "bad option 'time' to shap.interactions (only a survival forest takes a time)")
  local sf = sv.forest.survival(Xm, times, events, {trees = 2, seed = 1})
  sf:close()
  T.raises(function() sv.shap.tree(sf, Xm) end, "forest is closed")
  T.raises(function() sv.shap.tree(Xm, Xm) end, "Forest expected")
end)

T.done()
