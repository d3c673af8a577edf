-- forest_v1_fixture.lua - writes the frozen version-1 model file of
-- test_forest_v1.lua with the sylva of commit 6201fbe (the last one whose
-- model files are format version 1), so that later sylvas are held to
-- loading it and predicting exactly what that sylva predicted:
--   build/sylva tests/oracle/forest_v1_fixture.lua
-- Outputs (tests/fixtures/forest/):
--   v1_wdbc.svf             25 trees on the Wisconsin rows i % 3 ~= 0,
--                           OOB predictions saved in the file
--   v1_wdbc_predict.csv     row, P(malignant) of every wdbc row, OOB
--   v1_wdbc_importance.csv  feature, impurity importance
-- Numbers are printed with %.17g (they read back bit for bit).
local sv = require "sylva"
local root = os.getenv("SYLVA_ROOT") or "."
local d = sv.read_csv(root .. "/tests/fixtures/data/wdbc.csv")
local names = d:names()
local feats = {}
for k = 1, #names - 1 do feats[k] = names[k] end
local X, y = d:matrix(feats), d:col("malignant")
local tr, trY = {}, {}
for i = 1, X:nrow() do
  if i % 3 ~= 0 then tr[#tr + 1], trY[#trY + 1] = X:row(i):totable(), y[i] end
end
local f = sv.forest.train(sv.matrix(tr, feats), trY, {trees = 25, seed = 20241, threads = 1})
local oob = f:oob_predict()
local out = root .. "/tests/fixtures/forest/"
f:save(out .. "v1_wdbc.svf")
local p = f:predict(X)
local fh = assert(io.open(out .. "v1_wdbc_predict.csv", "w"))
fh:write("row,p\n")
for i = 1, #p do fh:write(("%d,%.17g\n"):format(i, p[i])) end
fh:close()
fh = assert(io.open(out .. "v1_wdbc_oob.csv", "w"))
fh:write("row,oob\n")
for i = 1, #oob do fh:write(("%d,%.17g\n"):format(i, oob[i])) end
fh:close()
local imp = f:importance("impurity")
fh = assert(io.open(out .. "v1_wdbc_importance.csv", "w"))
fh:write("feature,importance\n")
for _, nm in ipairs(feats) do fh:write(("%s,%.17g\n"):format(nm, imp[nm])) end
fh:close()
