-- sv.forest.survival against ranger 0.14.1 (splitrule = "logrank"),
-- fixtures from tests/oracle/survforest_ranger.R on gbsg, lung and an
-- 800-patient rotterdam subset:
-- - one tree grown without randomness (no bootstrap, sample fraction 1,
--   mtry = p) has ranger's splits, and each training row's cumulative
--   hazard and mortality equal ranger's predict() to 1e-9 (the same
--   partition and the same Nelson-Aalen leaves), for min_leaf 3 and 10
--   (ranger's min.node.size);
-- - forests of 300 trees: sylva's OOB Harrell's C over seeds agrees with
--   ranger's 1 - prediction.error within the seed-to-seed noise (ranger's C
--   differs from Harrell's only in pairs with equal times).
local T = require "testing"
local sv = require "sylva"

local fix = T.root .. "/tests/fixtures/survforest/"
local xs = {
  gbsg = {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"},
  lung = {"age", "sex", "ph.ecog", "ph.karno", "wt.loss"},
  rott = {"age", "meno", "grade", "nodes", "pgr", "er", "hormon", "chemo"},
}
local cohorts = {"gbsg", "lung", "rott"}
local data = {}
for _, cn in ipairs(cohorts) do
  local c = T.read_fixture(fix .. cn .. "_data.csv")
  local rows = {}
  for i = 1, #c.time do
    local r = {}
    for j, nm in ipairs(xs[cn]) do r[j] = c[nm][i] end
    rows[i] = r
  end
  data[cn] = {X = sv.matrix(rows, xs[cn]), time = sv.vector(c.time), event = sv.vector(c.event)}
end

T.test("one deterministic tree: ranger's splits, cumulative hazards and mortality", function()
  local splits = T.read_fixture_rows(fix .. "tree_splits.csv")
  local preds = T.read_fixture_rows(fix .. "tree_predictions.csv")
  local maxerr = 0
  for _, cn in ipairs(cohorts) do
    local d = data[cn]
    for _, ml in ipairs({3, 10}) do
      local msg = ("%s min_leaf %d"):format(cn, ml)
      local f = sv.forest.survival(d.X, d.time, d.event, {trees = 1, mtry = #xs[cn], bootstrap = false,
                                                          sample_fraction = 1, min_leaf = ml, seed = 1})
      -- the splits as a sorted list of "variable value"
      local want = {}
      for _, s in ipairs(splits) do
        if s.cohort == cn and s.min_leaf == ml then want[#want + 1] = ("%s %.10g"):format(s.variable, s.value) end
      end
      table.sort(want)
      local got = {}
      for _, s in ipairs(f:nodes()) do
        if not s.leaf then got[#got + 1] = ("%s %.10g"):format(s.variable, s.value) end
      end
      table.sort(got)
      T.eq(#got, #want, msg .. ": number of splits")
      -- where two variables cut a node into the same two groups their
      -- statistics tie exactly and ranger takes the first in its random
      -- variable order: such splits may name another variable (the
      -- partition, hence every prediction below, is the same)
      local seen, same = {}, 0
      for _, w in ipairs(want) do seen[w] = (seen[w] or 0) + 1 end
      for _, g in ipairs(got) do if (seen[g] or 0) > 0 then seen[g] = seen[g] - 1; same = same + 1 end end
      T.ok(same >= 0.9 * #want, ("%s: %d of %d splits identical"):format(msg, same, #want))
      -- per-row CHF at six times and mortality
      local rows, times = {}, nil
      for _, r in ipairs(preds) do
        if r.cohort == cn and r.min_leaf == ml then
          rows[#rows + 1] = r
          times = times or {r.t1, r.t2, r.t3, r.t4, r.t5, r.t6}
        end
      end
      local H = f:chf(d.X, times)
      local risk = f:predict(d.X)
      local compared = 0
      for i, r in ipairs(rows) do
        if r.tied == 1 then goto continue end
        compared = compared + 1
        for k = 1, 6 do
          T.rel(H:get(i, k), r["chf" .. k], 1e-9, msg .. " chf")
          local b = r["chf" .. k]
          if b ~= 0 then maxerr = math.max(maxerr, math.abs(H:get(i, k) - b) / b) end
        end
        T.rel(risk[i], r.mortality, 1e-9, msg .. " mortality")
        maxerr = math.max(maxerr, math.abs(risk[i] - r.mortality) / r.mortality)
        ::continue::
      end
      print(("%s: %d of %d rows compared (the others lie below a tied node)"):format(msg, compared, #rows))
      T.ok(compared >= #rows / 4, msg .. ": enough rows compared")
    end
  end
  print(("max rel err tree chf/mortality %.3g"):format(maxerr))
end)

T.test("OOB Harrell's C over seeds agrees with ranger's within the seed-to-seed noise", function()
  local R = T.read_fixture_rows(fix .. "oob_c.csv")
  for _, cn in ipairs(cohorts) do
    local d = data[cn]
    local rc, sc = {}, {}
    for _, r in ipairs(R) do if r.cohort == cn then rc[#rc + 1] = r.c end end
    for seed = 1, 3 do
      local f = sv.forest.survival(d.X, d.time, d.event, {trees = 300, seed = seed})
      sc[#sc + 1] = f:oob_concordance()
    end
    local function ms(v)
      local m, s = 0, 0
      for _, x in ipairs(v) do m = m + x end
      m = m / #v
      for _, x in ipairs(v) do s = s + (x - m) ^ 2 end
      return m, math.sqrt(s / (#v - 1))
    end
    local m1, s1 = ms(sc)
    local m2, s2 = ms(rc)
    local tol = 4 * math.sqrt(s1 ^ 2 / #sc + s2 ^ 2 / #rc) + 0.005
    print(("%s OOB C: sylva %.4f (sd %.4f), ranger %.4f (sd %.4f), tolerance %.4f"):format(cn, m1, s1, m2, s2, tol))
    T.ok(math.abs(m1 - m2) <= tol, cn .. " OOB C")
  end
end)

T.test("ensemble: survival = exp(-CHF), risk = sum of the CHF over the grid, OOB and importance", function()
  local d = data.lung
  local f = sv.forest.survival(d.X, d.time, d.event, {trees = 50, seed = 3})
  T.eq(f:kind(), "survival")
  local grid = f:times()
  local H = f:chf(d.X, grid)
  local S = f:survival(d.X, {grid[10], grid[50]})
  local risk = f:predict(d.X)
  for i = 1, 5 do
    local s = 0
    for k = 1, #grid do s = s + H:get(i, k) end
    T.rel(risk[i], s, 1e-12, "risk = sum of CHF")
    T.rel(S:get(i, 1), math.exp(-H:get(i, 10)), 1e-12)
    T.rel(S:get(i, 2), math.exp(-H:get(i, 50)), 1e-12)
  end
  -- before the first time the CHF is 0; the same seed gives the same forest
  T.eq(f:chf(d.X:rows({1}), grid[1] / 2):get(1, 1), 0)
  local g = sv.forest.survival(d.X, d.time, d.event, {trees = 50, seed = 3, threads = 1})
  T.eq(g:predict(d.X)[7], risk[7], "thread count does not change the forest")
  local oob = f:oob_predict()
  T.eq(#oob, #d.time)
  local imp, c0 = f:importance("permutation", {repeats = 2, seed = 1})
  T.near(c0, f:oob_concordance(), 1e-15)
  T.ok(imp["ph.ecog"] ~= nil and imp.age ~= nil, "importance keyed by name")
  T.raises(function() sv.forest.survival(d.X, d.time, {1, 0}) end, "event has 2 values, X has")
  T.raises(function() f:chf({{1, 2}}, {1}) end, "X has 2 columns, the forest was trained on 5")
  T.raises(function() sv.forest.survival(d.X, d.time, d.event, {min_leaf = 0}) end, "bad option 'min_leaf'")
end)

T.test("f:save and sv.forest.load: the loaded forest's risk, CHF and survival are bit-identical", function()
  local d = data.gbsg
  local f = sv.forest.survival(d.X, d.time, d.event, {trees = 20, seed = 5})
  local path = T.tmp .. "/survforest_io.bin"
  f:save(path)
  local g = sv.forest.load(path)
  T.eq(g:kind(), "survival")
  T.eq(g:ntrees(), 20)
  T.eq(table.concat(g:features(), ","), table.concat(xs.gbsg, ","))
  local grid = f:times()
  T.eq(#g:times(), #grid)
  for k = 1, #grid, 37 do T.eq(g:times()[k], grid[k]) end
  local H1, H2 = f:chf(d.X, grid), g:chf(d.X, grid)
  local S1, S2 = f:survival(d.X, {grid[5], grid[100]}), g:survival(d.X, {grid[5], grid[100]})
  local r1, r2 = f:predict(d.X), g:predict(d.X)
  local differ = 0
  for i = 1, #d.time do
    if r1[i] ~= r2[i] or S1:get(i, 1) ~= S2:get(i, 1) or S1:get(i, 2) ~= S2:get(i, 2) then differ = differ + 1 end
    for k = 1, #grid, 11 do if H1:get(i, k) ~= H2:get(i, k) then differ = differ + 1 end end
  end
  T.eq(differ, 0, "values that differ after save and load")
  -- saved again: the same bytes; the training data are not in the file
  local again = T.tmp .. "/survforest_io2.bin"
  g:save(again)
  T.ok(T.read_file(again) == T.read_file(path), "the same bytes")
  T.raises(function() g:oob_predict() end, "the training data of this forest are not available")
  -- a flipped byte is refused
  local s = T.read_file(path)
  local h = assert(io.open(again, "wb"))
  h:write(s:sub(1, 400) .. string.char(s:byte(401) ~ 4) .. s:sub(402))
  h:close()
  T.raises(function() sv.forest.load(again) end, "checksum mismatch: the file is damaged")
end)

T.done()
