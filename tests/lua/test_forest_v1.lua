-- test_forest_v1.lua - model files of format version 1 keep loading and
-- predicting exactly. tests/fixtures/forest/v1_wdbc.svf was written by the
-- sylva of commit 6201fbe (tests/oracle/forest_v1_fixture.lua), before the
-- tree engine learned other kinds of forest; its predictions, OOB
-- predictions and impurity importances were printed by that sylva with
-- %.17g and must come back bit for bit.
local T = require "testing"
local sv = require "sylva"

local dir = T.root .. "/tests/fixtures/forest/"
local cols, names = T.read_fixture(T.root .. "/tests/fixtures/data/wdbc.csv")
local feats = {}
for i = 1, #names - 1 do feats[i] = names[i] end
local n = #cols.malignant
local rows, trX, trY = {}, {}, {}
for i = 1, n do
  local r = {}
  for j, nm in ipairs(feats) do r[j] = cols[nm][i] end
  rows[i] = r
  if i % 3 ~= 0 then trX[#trX + 1], trY[#trY + 1] = r, cols.malignant[i] end
end
local X = sv.matrix(rows, feats)

local function same_bits(a, b, what)
  T.eq(#a, #b, what .. ": length")
  for i = 1, #b do
    if string.pack("<d", a[i]) ~= string.pack("<d", b[i]) then
      error(("%s: element %d differs: %.17g vs %.17g"):format(what, i, a[i], b[i]), 2)
    end
  end
end

local want_p = T.read_fixture(dir .. "v1_wdbc_predict.csv").p
local want_oob = T.read_fixture(dir .. "v1_wdbc_oob.csv").oob
local want_imp = T.read_fixture(dir .. "v1_wdbc_importance.csv")

T.test("a version-1 model file loads and predicts bit for bit", function()
  local f = sv.forest.load(dir .. "v1_wdbc.svf")
  T.eq(f:ntrees(), 25)
  local fn = f:features()
  for j = 1, #feats do T.eq(fn[j], feats[j]) end
  same_bits(f:predict(X), want_p, "predictions")
  same_bits(f:oob_predict(), want_oob, "OOB predictions")
  local imp = f:importance("impurity")
  local got = {}
  for k, nm in ipairs(want_imp.feature) do got[k] = imp[nm] end
  same_bits(got, want_imp.importance, "impurity importance")
end)

T.test("training with the fixture's options still grows the same forest", function()
  local f = sv.forest.train(sv.matrix(trX, feats), trY, {trees = 25, seed = 20241, threads = 2})
  same_bits(f:predict(X), want_p, "predictions of the retrained forest")
  same_bits(f:oob_predict(), want_oob, "OOB predictions of the retrained forest")
end)

T.done()
