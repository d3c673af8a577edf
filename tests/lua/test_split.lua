-- sv.split: hold-out, k-fold, repeated k-fold, by-group, bootstrap.
local T = require "testing"
local sv = require "sylva"

-- 10 positives then 20 negatives.
local y = {}
for i = 1, 30 do y[i] = i <= 10 and 1 or 0 end

local function set_of(t) local s = {} for _, i in ipairs(t) do s[i] = (s[i] or 0) + 1 end return s end
local function count_pos(idx) local c = 0 for _, i in ipairs(idx) do c = c + y[i] end return c end
local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

T.test("stratified hold-out 7:3 keeps the class ratio in each part", function()
  local train, test = sv.split.holdout(y, {prop = 0.7, seed = 42})
  -- 10 positives * 0.7 = 7, 20 negatives * 0.7 = 14 -> train 21, test 9
  T.eq(#train, 21); T.eq(#test, 9)
  T.eq(count_pos(train), 7); T.eq(count_pos(test), 3)
  local s = set_of(train)
  for _, i in ipairs(test) do T.ok(not s[i], "disjoint") end
  for i = 2, #train do T.ok(train[i - 1] < train[i], "sorted") end
end)

T.test("a split is a function of the seed only", function()
  local a1, b1 = sv.split.holdout(y, {seed = 5})
  local a2, b2 = sv.split.holdout(sv.vector(y), {seed = 5})
  T.ok(same(a1, a2) and same(b1, b2), "same seed, same split (array or Vector)")
  local a3 = sv.split.holdout(y, {seed = 6})
  T.ok(not same(a1, a3), "another seed, another split")
end)

T.test("string labels and missing labels stratify too", function()
  local g = {}
  for i = 1, 20 do g[i] = i <= 10 and "pos" or (i <= 16 and "neg" or false) end
  local train = sv.split.holdout(g, {prop = 0.5, seed = 1})
  local c = {pos = 0, neg = 0, na = 0}
  for _, i in ipairs(train) do local k = g[i] or "na"; c[k] = c[k] + 1 end
  T.eq(c.pos, 5); T.eq(c.neg, 3); T.eq(c.na, 2)
end)

T.test("an unstratified hold-out of n rows has round(n * prop) training rows", function()
  local train, test = sv.split.holdout(11, {prop = 0.7, stratify = false})
  T.eq(#train, 8) -- 7.7 -> 8
  T.eq(#test, 3)
end)

T.test("stratified k-fold: every row tested once, balanced folds and classes", function()
  local folds = sv.split.kfold(y, {k = 3, seed = 9})
  T.eq(#folds, 3)
  local tested = {}
  for _, f in ipairs(folds) do
    T.eq(#f.test, 10)
    T.eq(#f.train, 20)
    -- 10 positives over 3 folds -> 3 or 4 per fold
    local p = count_pos(f.test)
    T.ok(p == 3 or p == 4, "positives per fold " .. p)
    local s = set_of(f.test)
    for _, i in ipairs(f.train) do T.ok(not s[i], "train is the complement") end
    for _, i in ipairs(f.test) do tested[i] = (tested[i] or 0) + 1 end
  end
  for i = 1, 30 do T.eq(tested[i], 1) end
end)

T.test("repeated k-fold: repetition 1 equals kfold, later repetitions differ", function()
  local rk = sv.split.repeated_kfold(y, {k = 5, repeats = 3, seed = 4})
  T.eq(#rk, 15)
  local kf = sv.split.kfold(y, {k = 5, seed = 4})
  for f = 1, 5 do T.ok(same(rk[f].test, kf[f].test)); T.eq(rk[f].rep, 1) end
  T.eq(rk[6].rep, 2)
  T.ok(not same(rk[1].test, rk[6].test))
end)

T.test("by group: leave one centre out, or name the test centres", function()
  local g = {"A", "B", "A", "C", "B", "A"}
  local folds = sv.split.by_group(g)
  T.eq(#folds, 3)
  T.eq(folds[1].group, "A"); T.ok(same(folds[1].test, {1, 3, 6})); T.ok(same(folds[1].train, {2, 4, 5}))
  T.eq(folds[3].group, "C"); T.ok(same(folds[3].test, {4}))
  local train, test = sv.split.by_group(g, {test = {"B", "C"}})
  T.ok(same(train, {1, 3, 6})); T.ok(same(test, {2, 4, 5}))
  T.raises(function() sv.split.by_group(g, {test = "D"}) end, "no row in group 'D'")
  -- rows without a group form a fold of their own, named false
  local f2 = sv.split.by_group({"A", false, "A"})
  T.eq(#f2, 2); T.eq(f2[2].group, false); T.ok(same(f2[2].test, {2}))
end)

T.test("bootstrap: n draws with replacement, out-of-bag is the complement", function()
  local bs = sv.split.bootstrap(30, {B = 50, seed = 3})
  T.eq(#bs, 50)
  local oob_total = 0
  for _, b in ipairs(bs) do
    T.eq(#b.train, 30)
    local s = set_of(b.train)
    for _, i in ipairs(b.oob) do T.ok(not s[i]) end
    local distinct = 0
    for _ in pairs(s) do distinct = distinct + 1 end
    T.eq(distinct + #b.oob, 30)
    oob_total = oob_total + #b.oob
  end
  -- Expected OOB fraction (1 - 1/30)^30 = 0.362; over 1500 draws the
  -- binomial-ish sd is about 0.015 (rows are dependent; 0.05 is generous).
  T.near(oob_total / 1500, (1 - 1 / 30) ^ 30, 0.05)
  -- Replicates use separate streams: the first replicate does not depend on B.
  T.ok(same(sv.split.bootstrap(30, {B = 1, seed = 3})[1].train, bs[1].train))
end)

T.test("stratified bootstrap keeps the class counts", function()
  for _, b in ipairs(sv.split.bootstrap(y, {B = 10, seed = 2, stratify = true})) do
    T.eq(count_pos(b.train), 10)
  end
end)

T.test("bad options are errors naming the function", function()
  T.raises(function() sv.split.kfold(y, {folds = 3}) end, "unknown option 'folds' to split.kfold")
  T.raises(function() sv.split.kfold(y, {k = 1}) end, "bad option 'k' to split.kfold")
  T.raises(function() sv.split.kfold(5, {k = 6}) end, "6 folds for 5 rows")
  T.raises(function() sv.split.holdout(y, {prop = 1.5}) end, "bad option 'prop'")
  T.raises(function() sv.split.holdout(y, {seed = 1.5}) end, "bad option 'seed'")
  T.raises(function() sv.split.holdout("x") end, "bad argument #1 to 'split.holdout'")
end)

T.test("take picks elements by index and keeps the kind", function()
  local v = sv.split.take(sv.vector({10, 20, 30}), {3, 1})
  T.eq(v[1], 30); T.eq(#v, 2); T.eq(type(v), "userdata")
  T.eq(sv.split.take({"a", "b"}, {2})[1], "b")
end)

T.done()
