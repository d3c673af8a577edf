-- The public API contract (../shared/api.md, version 1) in one place:
-- every name, option and result field it states exists and works, from
-- the sylva executable and (run the same file with a stock lua5.4) from
-- sylva.so. A rename or a dropped field fails here.
local T = require "testing"
local sv = require "sylva"

T.test("every function, option and field of api.md exists and works", function()
  local d = sv.read_csv("tests/fixtures/data/gbsg.csv", {sep = ",", na = {"", "NA"}, header = true})
  assert(d:nrow() == 686 and d:ncol() == 11 and #d:names() == 11)
  local X = d:matrix({"age", "size", "nodes", "pgr", "er"})
  assert(X:nrow() == 686 and X:ncol() == 5 and X:names()[1] == "age" and X:get(1,1) == 49 and #X:row(1) == 5 and #X:col(2) == 686)
  local y = d:col("status")
  assert(type(sv.clock()) == "number")
  local f = sv.forest.train(X, y, {trees = 50, mtry = "sqrt", min_leaf = 1, min_split = 2, max_depth = 0, criterion = "gini",
    bootstrap = true, sample_fraction = 1.0, class_weight = "balanced", seed = 3, threads = 0})
  local p = f:predict(X); assert(#p == 686)
  local o = f:oob_predict(); assert(#o == 686)
  local imp = f:importance("impurity"); assert(imp.age)
  local pi = f:importance("permutation", {seed = 1}); assert(pi.age)
  local path = T.tmp .. "/api_contract.svf"
  f:save(path); local g = sv.forest.load(path); assert(g:predict(X)[5] == p[5])
  f:export_json(path .. ".json")
  local phi, base = sv.shap.tree(f, X, {threads = 0})
  local s = base; for j = 1, 5 do s = s + phi:get(1, j) end; assert(math.abs(s - p[1]) < 1e-12)
  local I = sv.shap.interactions(f, X:rows({1,2})); assert(I:get(1, 1, 2))
  local pb = sv.shap.tree(f, X:rows({1,2,3}), {background = X:rows({4,5,6,7})}); assert(pb:nrow() == 3)
  local t, e = d:col("rfstime"), d:col("status")
  local km = sv.surv.km(t, e, {conf_type = "log", conf_level = 0.95})
  for _, k in ipairs({"time","n_risk","n_event","n_censor","surv","std_err","lower","upper","median","median_lo","median_hi"}) do assert(km[k] ~= nil, k) end
  local lr = sv.surv.logrank(t, e, d:col("grade"), {rho = 0})
  for _, k in ipairs({"chisq","df","p","groups","observed","expected"}) do assert(lr[k] ~= nil, k) end
  local cx = sv.surv.cox(t, e, X, {ties = "efron"})
  for _, k in ipairs({"coef","se","hr","hr_lo","hr_hi","z","p","loglik","wald","score","lrt","concordance","n","events"}) do assert(cx[k] ~= nil, k) end
  assert(type(sv.surv.concordance(t, e, p)) == "number")
  local a = sv.roc.auc(y, p, {ci = "delong", level = 0.95}); for _, k in ipairs({"auc","se","lo","hi"}) do assert(a[k], k) end
  local ab = sv.roc.auc(y, p, {ci = "bootstrap", boot = 200, seed = 1}); assert(ab.lo)
  local tt = sv.roc.test(y, p, o); for _, k in ipairs({"auc1","auc2","z","p"}) do assert(tt[k], k) end
  local c = sv.roc.curve(y, p); assert(c.threshold and c.tpr and c.fpr)
  local yo = sv.roc.youden(y, p); for _, k in ipairs({"threshold","j","sens","spec"}) do assert(yo[k], k) end
  local ofile, oline = d:origin(1); assert(ofile == "tests/fixtures/data/gbsg.csv" and oline == 2)
  -- v2: several classes
  local mc_y = {"a", "b", "c", "a", "b", "c", "a", "c"}
  local mc_P = sv.matrix({{.6, .3, .1}, {.2, .5, .3}, {.1, .2, .7}, {.5, .4, .1}, {.3, .4, .3},
                          {.2, .2, .6}, {.4, .4, .2}, {.3, .3, .4}}, {"a", "b", "c"})
  local mc = sv.roc.multiclass(mc_y, mc_P, {ci = "bootstrap", boot = 50, seed = 1, level = 0.95})
  for _, k in ipairs({"auc", "lo", "hi", "pairs"}) do assert(mc[k] ~= nil, k) end
  assert(mc.pairs[1].a == "a" and mc.pairs[1].b == "b" and type(mc.pairs[1].auc) == "number")
  -- v2: models beside the forest
  local lg = sv.glm.logistic(X, y, {intercept = true, epsilon = 1e-8, max_iter = 25, strict = true})
  for _, k in ipairs({"coef","se","z","p","deviance","null_deviance","aic","converged"}) do assert(lg[k] ~= nil, k) end
  assert(#lg.coef == 6 and lg.converged == true and #lg:predict(X) == 686)
  -- v2: several centres
  local m = sv.meta.rma({-0.9, -1.6, -1.3, -1.4}, {0.33, 0.19, 0.42, 0.02}, {method = "REML", test = "knha", level = 0.95})
  for _, k in ipairs({"estimate","se","lo","hi","p","tau2","i2","pi_lo","pi_hi"}) do assert(type(m[k]) == "number", k) end
  assert(sv.meta.rma({-0.9, -1.6, -1.3}, {0.33, 0.19, 0.42}, {method = "DL", test = "z"}).tau2 >= 0)
  local function pipe(rows) local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows)); return function(r) return m:predict(X:rows(r)) end end
  for _, meth in ipairs({"optimism", ".632", ".632+"}) do
    local vb = sv.validate.bootstrap(y, pipe, {B = 3, seed = 1, method = meth, record = true})
    for _, k in ipairs({"apparent","optimism","corrected"}) do for _, m in ipairs({"auc","brier","slope","intercept"}) do assert(vb[k][m], k .. m) end end
    assert(vb.B == 3 and vb.failed == 0 and #vb.rows == 3)
  end
  local hX = {{1, 5}, {2, 3}, {3, 8}, {4, 1}, {6, 2}, {5, 7}}
  local hc = sv.harmonise.combat(hX, {"a", "a", "a", "b", "b", "b"}, {ref = "a", mean_only = false})
  assert(hc:apply(hX, {"a", "a", "a", "b", "b", "b"}):get(1, 1) == 1)
  assert(hc:apply({{3, 3}, {4, 4}, {2, 9}}, {"new", "new", "new"}):nrow() == 3)
  assert(sv.validate.sample_size{outcome = "binary", parameters = 24, prevalence = 0.174, r2_cs = 0.288}.n == 662)
  assert(require("sylva.forest") == sv.forest)
  -- studies (api.md "Studies, model bundles and scoring"): run by tests/lua/test_study.lua
  assert(type(sv.study.run) == "function" and type(sv.study.kinds.binary) == "table")
  -- a multiclass task kind (issue 14 item 6): run by tests/lua/test_study_multiclass.lua
  assert(type(sv.study.kinds.multiclass) == "table" and type(sv.study.class_labels) == "function")
  for _, st in ipairs(sv.study.kinds.multiclass) do assert(type(st.name) == "string" and type(st.run) == "function") end
  local ok, err = pcall(sv.forest.train, X, y, {treees = 3}); assert(not ok and err:find("unknown option 'treees' to forest.train", 1, true), err)
end)

T.test("api.md v2: forests of every kind (classification with K classes)", function()
  local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
  local X = d:matrix({"age", "size", "nodes", "pgr", "er"})
  local grade = d:col("grade")
  local f = sv.forest.train(X, grade, {trees = 20, seed = 1, class_weight = "balanced"})
  assert(f:kind() == "classification")
  local cl = f:classes(); assert(#cl == 3 and cl[1] == 1 and cl[3] == 3)
  local P = f:predict(X); assert(P:nrow() == 686 and P:ncol() == 3 and P:names()[2] == "2")
  local O = f:oob_predict(); assert(O:ncol() == 3)
  local lab = {}
  for i = 1, #grade do lab[i] = grade[i] == 1 and "one" or "more" end
  local s = sv.forest.train(X, lab, {trees = 5})
  assert(s:classes()[1] == "more" and #s:predict(X) == 686)
  local b = sv.forest.train(X, d:col("status"), {trees = 5}); assert(b:kind() == "classification" and b:classes()[2] == 1)
  local path = T.tmp .. "/api_contract_k3.svf"
  f:save(path); assert(sv.forest.load(path):predict(X):get(7, 2) == P:get(7, 2))
  f:export_json(path .. ".json")
  local ok, err = pcall(sv.forest.train, X, grade, {class_weight = {1, 2}})
  assert(not ok and err:find("expected 3 weights", 1, true), err)
  local r = sv.forest.regress(X, d:col("rfstime"), {trees = 10, mtry = "sqrt", min_leaf = 5, min_split = 10,
    max_depth = 0, bootstrap = true, sample_fraction = 1.0, seed = 2, threads = 0})
  assert(r:kind() == "regression" and #r:predict(X) == 686 and #r:oob_predict() == 686)
  assert(r:importance("impurity").nodes)
  r:save(path); assert(sv.forest.load(path):predict(X)[3] == r:predict(X)[3])
  local sfo = sv.forest.survival(X, d:col("rfstime"), d:col("status"), {trees = 5, seed = 1})
  sfo:save(path); local sg = sv.forest.load(path)
  assert(sg:kind() == "survival" and sg:predict(X)[4] == sfo:predict(X)[4])
  assert(sg:survival(X, {365})[9] == sfo:survival(X, {365})[9])
  local phis, bases = sv.shap.tree(f, X:rows({1, 2})); assert(#phis == 3 and #bases == 3)
  local phi2, b2 = sv.shap.tree(f, X:rows({1, 2}), {class = 2, threads = 0})
  local s2 = b2; for j = 1, 5 do s2 = s2 + phi2:get(1, j) end; assert(math.abs(s2 - P:get(1, 2)) < 1e-12)
  assert(sv.shap.tree(f, X:rows({1}), {class = 1, background = X:rows({4, 5})}):nrow() == 1)
  assert(sv.shap.interactions(f, X:rows({1}), {class = 3}):get(1, 1, 2))
  local pr, br = sv.shap.tree(r, X:rows({1})); assert(math.abs(br + pr:get(1,1) + pr:get(1,2) + pr:get(1,3) + pr:get(1,4) + pr:get(1,5) - r:predict(X:rows({1}))[1]) < 1e-9)
end)

T.test("v2: figures are saved as SVG, PDF, PNG and TIFF by extension", function()
  local svg = sv.plot.roc({{y = {0, 1, 0, 1}, score = {0.1, 0.8, 0.4, 0.6}, name = "t"}})
  for _, ext in ipairs({"svg", "pdf", "png", "tif", "tiff"}) do
    local path = T.tmp .. "/api_contract_fig." .. ext
    assert(sv.plot.save(svg, path, {dpi = 300, width_mm = 85}) == path)
    local f = assert(io.open(path, "rb")); local head = f:read(4); f:close()
    assert(#head == 4, ext)
  end
end)

T.test("api.md v2: time-dependent performance of survival predictions", function()
  local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
  local t, e = d:col("rfstime"), d:col("status")
  local m = d:col("nodes")
  local a = sv.surv.auc_t(t, e, m, {365, 730}, {level = 0.95})
  for _, k in ipairs({"time", "auc", "se", "lo", "hi"}) do assert(a[k] and #a[k] == 2, k) end
  local S = {}
  for i = 1, #t do S[i] = {0.9, 0.8} end
  local b = sv.surv.brier_t(t, e, S, {365, 730})
  for _, k in ipairs({"time", "brier", "ibs"}) do assert(b[k] ~= nil, k) end
  local cp = sv.surv.cutpoint(t, e, m, {minprop = 0.1})
  for _, k in ipairs({"cut", "statistic", "p"}) do assert(type(cp[k]) == "number", k) end
end)

T.test("v2: read_xlsx returns a Frame with read_csv's rules", function()
  local d = sv.read_xlsx(T.root .. "/tests/fixtures/xlsx/gbsg.xlsx", {sheet = 1, na = {"NA"}})
  assert(getmetatable(d) == getmetatable(sv.read_csv(T.root .. "/tests/fixtures/data/gbsg.csv")))
  assert(d:nrow() == 686)
  local ok, err = pcall(sv.read_xlsx, T.root .. "/tests/fixtures/xlsx/bad_sst.xlsx")
  assert(not ok and err:find("Data!C18", 1, true), err)
end)

T.test("api.md v2: sv.forest.survival predicts risk, chf and survival; kind is survival", function()
  local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
  local X = d:matrix({"age", "size", "nodes", "pgr", "er"})
  local f = sv.forest.survival(X, d:col("rfstime"), d:col("status"), {trees = 20, seed = 2})
  assert(f:kind() == "survival")
  assert(#f:predict(X) == 686 and #f:oob_predict() == 686)
  local S, H = f:survival(X, {365, 730}), f:chf(X, {365, 730})
  assert(S:nrow() == 686 and S:ncol() == 2 and H:ncol() == 2)
  assert(math.abs(S:get(1, 2) - math.exp(-H:get(1, 2))) < 1e-12)
end)

T.test("api.md v2: model bundles (.svm) and scoring", function()
  -- sv.bundle.save/load and b:score; the study writes DIR/models/<task>.svm (tests/lua/test_bundle.lua)
  local enc_path, csv_path = T.tmp .. "/api_bundle_enc.lua", T.tmp .. "/api_bundle.csv"
  local f = assert(io.open(enc_path, "w"))
  f:write('return {centre = "A", id = "pid", features = {{name = "x", column = "X", kind = "numeric", label = "X (mm)"}}, ' ..
          'impute = {x = "median"}}\n')
  f:close()
  f = assert(io.open(csv_path, "w"))
  f:write("pid,X\na,1\nb,2\nc,\nd,4\ne,5\nf,6\n")
  f:close()
  local enc = sv.encode.load(enc_path)
  local d = sv.encode.apply(enc, sv.read_csv(csv_path))
  local imp = sv.encode.fit_imputer(d)
  local model = sv.forest.train(imp:apply(d).X, {0, 0, 1, 0, 1, 1}, {trees = 5, seed = 1, threads = 1})
  local path = T.tmp .. "/api_contract.svm"
  sv.bundle.save(path, {model = model, selected = {"x"}, impute = imp.stats, cutoff = 0.5,
    training_range = {x = {1, 6}}, encoding = {source = "return {}", path = "enc.lua"}})
  local b = sv.bundle.load(path)
  local res = b:score(csv_path, {encoding = enc_path, explain = true})
  assert(res.n == 6 and res.ids[1] == "a" and (res.group[1] == "high" or res.group[1] == "low"))
  assert(res.score[3] == model:predict(imp:apply(d).X)[3])
  assert(res.phi:nrow() == 6 and type(res.base) == "number")
  local text = sv.bundle.csv(b, res, 1)
  assert(text:find("^id,score,group,feature_1,value_1,shap_1,outside_training_range\n"), text)
  assert(type(sv.bundle.cli) == "function")
end)

T.done()
