-- sv.harmonise.combat against sva::ComBat 3.46.0 (par.prior = TRUE) on
-- serum free light chains measured in nine yearly batches
-- (survival::flchain; tests/oracle/combat_r.R): plain, mean-only,
-- reference batch, a batch of one row, and a centre never seen in fitting;
-- plus the invariants that make it usable as an encoding step.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/combat/"
local FEATURES = {"log_kappa", "log_lambda", "log_creatinine"}

-- 1e-9 absolute on values of order 1: the same arithmetic as sva up to
-- summation order, and it.sol's stopping test reached at the same step.
local TOL = 1e-9

local input = T.read_fixture(FIX .. "flchain_input.csv")
local n = #input.year

local function rows_where(keep)
  local X, b = {}, {}
  for i = 1, n do
    if keep(i) then
      X[#X + 1] = {input.log_kappa[i], input.log_lambda[i], input.log_creatinine[i]}
      b[#b + 1] = tostring(math.tointeger(input.year[i]))
    end
  end
  return sv.matrix(X, FEATURES), b
end

local function compare(M, file, what)
  local exp = T.read_fixture(FIX .. file)
  T.eq(M:nrow(), #exp.log_kappa, what .. " rows")
  for j, f in ipairs(FEATURES) do
    for i = 1, M:nrow() do T.near(M:get(i, j), exp[f][i], TOL, ("%s [%d, %s]"):format(what, i, f)) end
  end
end

local X, batch = rows_where(function() return true end)
local function row(M, i) return {M:get(i, 1), M:get(i, 2), M:get(i, 3)} end

T.test("h:apply on the fitting rows equals sva::ComBat: plain and mean-only", function()
  compare(sv.harmonise.combat(X, batch):apply(X, batch), "flchain_plain.csv", "plain")
  compare(sv.harmonise.combat(X, batch, {mean_only = true}):apply(X, batch), "flchain_mean_only.csv", "mean only")
end)

T.test("with a reference batch: equals ComBat(ref.batch), reference rows unchanged", function()
  local h = sv.harmonise.combat(X, batch, {ref = "1996"})
  local A = h:apply(X, batch)
  compare(A, "flchain_ref1996.csv", "ref")
  for i = 1, n do
    if batch[i] == "1996" then for j = 1, 3 do T.eq(A:get(i, j), X:get(i, j)) end end
  end
  compare(sv.harmonise.combat(X, batch, {ref = "1996", mean_only = true}):apply(X, batch),
          "flchain_ref1996_mean_only.csv", "ref mean only")
end)

T.test("a batch of one row forces mean-only, as ComBat", function()
  local seen = false
  local X1, b1 = rows_where(function(i)
    if input.year[i] ~= 2002 then return true end
    if not seen then seen = true return true end
    return false
  end)
  local h = sv.harmonise.combat(X1, b1)
  T.ok(h:params().mean_only, "forced")
  compare(h:apply(X1, b1), "flchain_single.csv", "single")
end)

T.test("a centre never seen in fitting is adjusted onto the reference as ComBat would", function()
  local Xt, bt = rows_where(function(i) return input.year[i] ~= 2003 end)
  local Xn, bn = rows_where(function(i) return input.year[i] == 2003 end)
  for _, mo in ipairs({false, true}) do
    local h = sv.harmonise.combat(Xt, bt, {ref = "1996", mean_only = mo})
    compare(h:apply(Xn, bn), mo and "flchain_new2003_mean_only.csv" or "flchain_new2003.csv", "new centre")
    -- the fit is not changed by seeing the new centre: training rows as before
    local before = h:apply(Xt, bt)
    local mixed = {}
    for i = 1, Xt:nrow() do mixed[i] = row(Xt, i) end
    local bm = {table.unpack(bt)}
    for i = 1, Xn:nrow() do mixed[#mixed + 1] = row(Xn, i); bm[#bm + 1] = bn[i] end
    local after = h:apply(sv.matrix(mixed), bm)
    for i = 1, Xt:nrow() do for j = 1, 3 do T.eq(after:get(i, j), before:get(i, j)) end end
  end
  -- without a reference, refused with the label
  local h = sv.harmonise.combat(Xt, bt)
  T.raises(function() h:apply(Xn, bn) end, "batch '2003' was not seen in fitting")
end)

T.test("applied to new rows of a seen batch: the frozen parameters, row by row", function()
  local h = sv.harmonise.combat(X, batch)
  local A = h:apply(X, batch)
  -- one row at a time gives the same values (no test information is used)
  for _, i in ipairs({1, 30, 113, 200}) do
    local r = h:apply(X:rows({i}), {batch[i]})
    for j = 1, 3 do T.near(r:get(1, j), A:get(i, j), 1e-15) end
  end
  T.eq(A:names()[2], "log_lambda")
end)

T.test("hand case: two batches, location only, equal sizes", function()
  -- feature values a: batch A {0, 2}, batch B {4, 6}; b: A {1, 3}, B {1, 5}
  -- grand means 3 and 2.5; var_pooled = mean squared residual about the
  -- batch means: a (1+1+1+1)/4 = 1, b (1+1+4+4)/4 = 2.5
  local Xh = {{0, 1}, {2, 3}, {4, 1}, {6, 5}}
  local h = sv.harmonise.combat(Xh, {"A", "A", "B", "B"}, {mean_only = true})
  local pa = h:params()
  T.near(pa.stand_mean[1], 3, 1e-15); T.near(pa.stand_mean[2], 2.5, 1e-15)
  T.near(pa.var_pooled[1], 1, 1e-15); T.near(pa.var_pooled[2], 2.5, 1e-15)
  -- gamma_hat for batch A: ((1 - 3)/1, (2 - 2.5)/sqrt(2.5)) = (-2, -0.316);
  -- shrunk: (t2 g + gbar)/(t2 + 1) with t2 = var of the two
  local g1, g2 = -2, -0.5 / math.sqrt(2.5)
  local gbar, t2 = (g1 + g2) / 2, ((g1 - g2) ^ 2) / 2
  T.near(pa.gamma[1][1], (t2 * g1 + gbar) / (t2 + 1), 1e-14)
  T.near(pa.gamma[1][2], (t2 * g2 + gbar) / (t2 + 1), 1e-14)
end)

T.test("as an encoding step: the HER2 centre 2 harmonised onto centre 1 (the reference)", function()
  local dir = T.root .. "/examples/her2/"
  local function load(c)
    local enc = sv.encode.load(dir .. "encodings/center" .. c .. ".lua")
    return sv.encode.apply(enc, sv.read_csv(dir .. "data/center" .. c .. ".csv"))
  end
  local d1, d2 = load(1), load(2)
  local imp = sv.encode.fit_imputer(d1)
  d1, d2 = imp:apply(d1), imp:apply(d2)
  local h = sv.encode.fit_harmoniser(d1, {ref = d1.centre})
  T.ok(#h.features >= 2, "numeric features found")
  local a1, a2 = h:apply(d1), h:apply(d2)
  -- the reference centre is unchanged; centre 2 is moved towards it
  local moved = 0
  for _, f in ipairs(h.features) do
    local c1, x2, y2 = d1.X:col(f), d2.X:col(f), a2.X:col(f)
    local b1 = a1.X:col(f)
    for i = 1, #c1 do T.eq(b1[i], c1[i]) end
    local function mean(v) local s = 0 for i = 1, #v do s = s + v[i] end return s / #v end
    local before, after = math.abs(mean(x2) - mean(c1)), math.abs(mean(y2) - mean(c1))
    if after < before then moved = moved + 1 end
  end
  T.ok(moved >= #h.features - 1, ("centre 2's means moved towards centre 1 for %d of %d features"):format(moved, #h.features))
  -- the other columns are untouched
  for j, name in ipairs(d2.names) do
    local harmonised = false
    for _, f in ipairs(h.features) do if f == name then harmonised = true end end
    if not harmonised then T.eq(a2.X:get(1, j), d2.X:get(1, j)) end
  end
  T.raises(function() sv.encode.fit_harmoniser(d1, {reff = 1}) end, "unknown option 'reff'")
end)

T.test("bad input names the argument", function()
  T.raises(function() sv.harmonise.combat(X, {"a"}) end, "bad argument #2 to 'combat' (has 1 labels, X has 200 rows)")
  T.raises(function() sv.harmonise.combat(X, batch, {ref = "1066"}) end,
           "bad option 'ref' to harmonise.combat ('1066' is not one of the 9 batches)")
  T.raises(function() sv.harmonise.combat({{1, 2}, {0 / 0, 1}, {2, 2}, {3, 1}}, {1, 1, 2, 2}) end, "X[2, 1] is")
  T.raises(function() sv.harmonise.combat({{1, 2}, {1, 1}, {2, 2}, {3, 1}}, {1, 1, 2, 2}) end,
           "1 feature vary inside every batch")
  local h = sv.harmonise.combat(X, batch)
  T.raises(function() h:apply({{1, 2}}, {"1996"}) end, "X has 2 columns, the harmonisation was fitted on 3")
  T.raises(function() h:apply(X, {}) end, "has 0 labels, X has 200 rows")
end)

T.done()
