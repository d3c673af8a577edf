-- The bad-input catalogue (docs/errors.md): one test per entry, named by
-- the entry's id. Each asserts a Lua error (never a crash, a hang or a
-- silently wrong number) whose message names the argument, the option or
-- the file and line. Entries for modules not built yet are skipped with a
-- message. Catastrophic cases (huge allocations) run in a child process,
-- so that an abort is a failure rather than the end of this file.
local T = require "testing"
local sv = require "sylva"

local tmp = T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Runs Lua code in a child sylva; returns ok, output. The child may print
-- "RESULT <text>" lines that the caller checks.
local function child(code)
  local path = write(tmp .. "/errors_child.lua", code)
  local p = assert(io.popen(("ASAN_OPTIONS=allocator_may_return_null=1 timeout -s KILL 120 %q %q 2>&1"):format(bin, path)))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function skip(id, why) print(("skip %s: %s"):format(id, why)) end

-- ---- the catalogue, one row per entry: id, call, text the message holds -
-- (docs/errors.md lists the same ids with the message and the reason).

local function csv(name, text) return write(tmp .. "/" .. name, text) end

local X6 = {{1, 2}, {2, 1}, {3, 4}, {4, 3}, {5, 6}, {6, 5}}
local y6 = {0, 0, 0, 1, 1, 1}

local catalogue = {
  -- CSV files
  {"E-CSV-RAGGED", function() sv.read_csv(csv("ragged.csv", "a,b\n1,2\n3\n")) end,
   "ragged.csv: line 3, column 2 (b): the record has 1 field, expected 2"},
  {"E-CSV-LONG-ROW", function() sv.read_csv(csv("long.csv", "a,b\n1,2,3\n")) end, "ong.csv: line 2"},
  {"E-CSV-QUOTE", function() sv.read_csv(csv("unterm.csv", "a,b\n\"1,2\n3,4\n")) end,
   "unterm.csv: line 2, column 1 (a): unterminated quoted field"},
  {"E-CSV-AFTER-QUOTE", function() sv.read_csv(csv("after.csv", "a,b\n\"1\"x,2\n")) end, "after.csv: line 2"},
  {"E-CSV-BINARY", function() sv.read_csv(csv("bin.csv", "\x7fELF\2\1\1\0\0\0garbage")) end,
   "bin.csv: line 1, column 1: NUL byte"},
  {"E-CSV-EMPTY", function() sv.read_csv(csv("empty.csv", "")) end, "empty.csv: empty file"},
  {"E-CSV-DUPLICATE", function() sv.read_csv(csv("dup.csv", "a,a\n1,2\n")) end, "duplicate column name 'a'"},
  {"E-CSV-MISSING-FILE", function() sv.read_csv(tmp .. "/no/such.csv") end, "No such file or directory"},
  {"E-CSV-DIRECTORY", function() sv.read_csv(tmp) end, "Is a directory"},
  {"E-CSV-OPTION", function() sv.read_csv(csv("ok.csv", "a\n1\n"), {seperator = ";"}) end, "unknown option 'seperator'"},
  -- features and outcomes
  {"E-X-NAN", function() sv.forest.train({{0 / 0, 1}, {1, 2}, {3, 4}, {4, 3}}, {0, 1, 0, 1}) end,
   "bad argument #1 to 'train' (NaN at row 1, column 1)"},
  -- regression: "row 130, column 1" named no column; a Matrix with column
  -- names now gets the name (a Lua array of rows has none)
  {"E-X-NAN-NAMED", function()
     sv.forest.train(sv.matrix({{1, 2}, {3, 4}, {0 / 0, 1}, {4, 3}}, {"age", "er"}), {0, 1, 0, 1}) end,
   "bad argument #1 to 'train' (NaN at row 3, column 1 (age))"},
  {"E-X-INF", function() sv.forest.train({{1 / 0, 1}, {1, 2}, {3, 4}, {4, 3}}, {0, 1, 0, 1}) end,
   "infinite value at row 1, column 1"},
  {"E-X-MISSING-CELL", function() sv.forest.train({{1, 2}, {3}}, {0, 1}) end, "row 2 has 1 values"},
  {"E-X-TEXT", function() sv.forest.train({{1, "a"}, {3, 4}}, {0, 1}) end, "row 1, column 2 is string"},
  {"E-X-EMPTY", function() sv.forest.train({}, {}) end, "X has no rows"},
  {"E-X-PREDICT-NAN", function()
     local f = sv.forest.train(X6, y6, {trees = 2, threads = 1})
     f:predict({{0 / 0, 1}}) end, "bad argument #1 to 'predict' (NaN at row 1, column 1)"},
  {"E-X-PREDICT-WIDTH", function()
     local f = sv.forest.train(X6, y6, {trees = 2, threads = 1})
     f:predict({{1, 2, 3}}) end, "X has 3 columns, the forest was trained on 2"},
  {"E-SHAP-NAN", function()
     local f = sv.forest.train(X6, y6, {trees = 2, threads = 1})
     sv.shap.tree(f, {{0 / 0, 1}}) end, "bad argument #2 to 'tree' (NaN at row 1, column 1)"},
  {"E-SHAP-TIME", function()
     local f = sv.forest.train(X6, y6, {trees = 2, threads = 1})
     sv.shap.tree(f, X6, {time = 1}) end, "bad option 'time' to shap.tree (only a survival forest takes a time)"},
  {"E-SHAP-TABLE", function()
     local rows, y = {}, {}
     for i = 1, 3000 do
       local r, x = sv.rng(7, i), {}
       for j = 1, 30 do x[j] = r:uniform() end
       rows[i], y[i] = x, r:uniform() < 0.5 and 1 or 0
     end
     local f = sv.forest.train(rows, y, {trees = 2, seed = 1, mtry = 30, threads = 1})
     sv.shap.tree(f, {rows[1]}, {algorithm = "table"}) end,
   "shap.tree: the table algorithm needs at most 16 distinct features per root-to-leaf path"},
  {"E-CLASS-LABEL", function() sv.roc.multiclass({"x", "z"}, sv.matrix({{0.9, 0.1}, {0.2, 0.8}}, {"x", "y"})) end,
   "bad argument #1 to 'multiclass' (y[2] is 'z', which is not a column name of P)"},
  {"E-CLASS-COLUMNS", function() sv.roc.multiclass({1, 2, 3}, {{1, 0}, {0, 1}, {1, 0}}) end,
   "bad argument #2 to 'multiclass' (P has 2 columns but y has 3 classes: name P's columns by the class labels)"},
  {"E-FOREST-CLOSED", function()
     local f = sv.forest.train(X6, y6, {trees = 2, threads = 1})
     f:close()
     local ok, err = pcall(sv.shap.tree, f, X6)
     assert(not ok and err:find("(forest is closed)", 1, true), "shap.tree: " .. tostring(err))
     f:predict(X6) end, "calling 'predict' on bad self (forest is closed)"},
  {"E-Y-NAN", function() sv.forest.train(X6, {0, 0 / 0, 0, 1, 1, 1}) end, "y element 2 is not a finite number"},
  {"E-Y-LABELS", function() sv.forest.train(X6, {0, "low", 0, 1, 1, 1}) end,
   "y element 2 is string: labels are all numbers or all strings"},
  {"E-Y-ONE-CLASS", function() sv.forest.train(X6, {"a", "a", "a", "a", "a", "a"}) end,
   "y holds only one class (a): two or more are needed"},
  {"E-Y-LENGTH", function() sv.forest.train(X6, {0, 1}) end, "y has 2 values, X has 6 rows"},
  {"E-AUC-NAN", function() sv.roc.auc({0, 1, 0, 1}, {0.1, 0 / 0, 0.3, 0.4}) end,
   "bad argument #2 to 'auc' (element 2 is"},
  {"E-SURV-TIME", function() sv.surv.km({-1, 2, 3}, {1, 0, 1}) end, "time[1] is -1.0; times must be finite and >= 0"},
  {"E-SURV-EMPTY", function() sv.surv.km({}, {}) end, "bad argument #1 to 'km' (no observations"},
  {"E-SURV-EMPTY", function() sv.surv.logrank({}, {}, {}) end, "bad argument #1 to 'logrank' (no observations"},
  {"E-SURV-TIME-NAN", function() sv.surv.km({0 / 0, 2, 3}, {1, 0, 1}) end, "time[1] is"},
  {"E-SURV-EVENT", function() sv.surv.km({1, 2, 3}, {2, 0, 1}) end, "event[1] is 2.0"},
  {"E-COX-NAN", function() sv.surv.cox({1, 2, 3, 4}, {1, 0, 1, 1}, {{1}, {0 / 0}, {3}, {4}}) end,
   "X[2, 1] is not finite"},
  -- one class, one group, no events
  {"E-ONE-CLASS-TRAIN", function() sv.forest.train(X6, {0, 0, 0, 0, 0, 0}) end, "y holds only class 0"},
  {"E-ONE-CLASS-AUC", function() sv.roc.auc({1, 1, 1}, {0.1, 0.2, 0.3}) end, "y has a single class"},
  {"E-ONE-CLASS-FOLD", function()
     local X, y = {}, {}
     for i = 1, 20 do X[i] = {i, i % 3}; y[i] = i <= 2 and 1 or 0 end
     sv.tune.cv(X, y, {trees = 3, threads = 1}, {k = 5, seed = 1}) end,
   "tune.cv: fold 1's test rows hold only class 0"},
  -- survival forests
  {"E-SF-LENGTH", function() sv.forest.survival(X6, {1, 2, 3}, {1, 0, 1, 1, 0, 1}) end,
   "bad argument #2 to 'survival' (time has 3 values, X has 6 rows)"},
  {"E-SF-EVENT", function() sv.forest.survival(X6, {1, 2, 3, 4, 5, 6}, {1, 0, 2, 1, 0, 1}) end,
   "bad argument #3 to 'survival' (event[3] is 2.0; events must be 0 (censored) or 1)"},
  {"E-SF-WIDTH", function()
     local f = sv.forest.survival(X6, {1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {trees = 3})
     f:chf({{1, 2, 3}}, {1})
   end, "bad argument #1 to 'chf' (X has 3 columns, the forest was trained on 2)"},
  {"E-SF-CLOSED", function()
     local f = sv.forest.survival(X6, {1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {trees = 3})
     f:close()
     f:predict(X6)
   end, "calling 'predict' on bad self (forest is closed)"},
  -- time-dependent performance
  {"E-TD-LATE", function() sv.surv.auc_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {3, 1, 2, 5, 4, 6}, {7}) end,
   "bad argument #4 to 'auc_t' (times[1] = 7.0 is after the last follow-up time 6.0)"},
  {"E-TD-ORDER", function() sv.surv.auc_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {3, 1, 2, 5, 4, 6}, {3, 2}) end,
   "times must be strictly ascending (times[2] = 2.0 after 3.0)"},
  {"E-TD-MARKER", function() sv.surv.auc_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {1, 2, 0 / 0, 4, 5, 6}, {3}) end,
   "bad argument #3 to 'auc_t' (marker[3] is NaN; markers must be finite)"},
  {"E-TD-SURV-RANGE", function() sv.surv.brier_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {0.5, 0.5, 1.5, 0.5, 0.5, 0.5}, 3) end,
   "bad argument #3 to 'brier_t' (S[3, 1] is 1.5; predicted survival must be in [0, 1])"},
  {"E-TD-SURV-SHAPE", function() sv.surv.brier_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {{0.5}, {0.5}}, {2, 3}) end,
   "S is 2 x 1; expected 6 x 2 (subjects x times)"},
  {"E-TD-CALIB-RANGE", function() sv.surv.calibration_t({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {0.5, 0.5, 1, 0.5, 0.5, 0.5}, 3) end,
   "bad argument #3 to 'calibration_t' (S[3] is 1.0; predicted survival must be in (0, 1))"},
  {"E-TD-NO-CUT", function() sv.surv.cutpoint({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1}, {1, 1, 1, 1, 1, 1}) end,
   "surv.cutpoint: no cut-point leaves between 0.1 and 0.9 of the 6 subjects in the low group"},
  {"E-TD-UNO-STRATA", function() sv.surv.concordance({1, 2, 3, 4}, {1, 0, 1, 1}, {1, 2, 3, 4}, {timewt = "n/G2", strata = {1, 1, 2, 2}}) end,
   "bad option 'timewt' to surv.concordance (timewt = \"n/G2\" is not available with strata)"},
  {"E-ONE-GROUP", function() sv.surv.logrank({1, 2, 3, 4}, {1, 0, 1, 0}, {1, 1, 1, 1}) end, "there is only 1 group"},
  -- models beside the forest
  {"E-GLM-SEPARATION", function()
     local X, y = {}, {}
     for i = 1, 20 do X[i] = {i}; y[i] = i > 10 and 1 or 0 end
     sv.glm.logistic(X, y, {max_iter = 100}) end,
   "glm.logistic: fitted probabilities numerically 0 or 1"},
  {"E-GLM-NOCONV", function()
     local X, y = {}, {}
     for i = 1, 40 do X[i] = {i, (i * 7) % 11}; y[i] = (i * 5) % 3 == 0 and 1 or 0 end
     sv.glm.logistic(X, y, {max_iter = 1}) end,
   "glm.logistic: the fit did not converge in 1 iterations"},
  {"E-GLM-COLLINEAR", function() sv.glm.logistic({{1, 2}, {2, 4}, {3, 6}, {4, 8}}, {0, 1, 0, 1}) end,
   "glm.logistic: column 2 of X is a linear combination of the columns before it and the intercept"},
  {"E-VAL-FIT", function() sv.validate.bootstrap(y6, 3) end, "bad argument #2 to 'validate.bootstrap' (function fit(rows) expected"},
  {"E-VAL-METHOD", function() sv.validate.bootstrap(y6, function() end, {method = "632"}) end,
   "bad option 'method' to validate.bootstrap"},
  {"E-VAL-B", function() sv.validate.bootstrap(y6, function() end, {B = 0}) end, "bad option 'B' to validate.bootstrap"},
  {"E-VAL-PIPELINE", function() sv.validate.bootstrap(y6, function() return 1 end, {B = 2}) end,
   "validate.bootstrap: the pipeline failed on all rows: fit returned number"},
  {"E-VAL-WORKER", function()
     -- the pipeline on all rows (1..6 in order) works; in a worker it ends the process
     sv.validate.bootstrap(y6, function(rows)
       for i = 1, 6 do if rows[i] ~= i then os.exit(3) end end
       return function(r) local p = {} for i = 1, #r do p[i] = 0.5 end return p end
     end, {B = 2, threads = 2}) end,
   "before returning it (replicate"},
  {"E-VAL-SEND", function()
     sv.validate.bootstrap(y6, function()
       return function(r) local p = {} for i = 1, #r do p[i] = 0.5 end return p end, {features = {print}}
     end, {B = 2, threads = 2}) end,
   "a result holds a function, which cannot be sent from a worker process"},
  {"E-VAL-THREADS", function() sv.validate.bootstrap(y6, function() end, {threads = -1}) end,
   "bad option 'threads' to validate.bootstrap"},
  {"E-SAMPSIZE-R2", function() sv.validate.sample_size{parameters = 10, prevalence = 0.1, r2_cs = 0.6} end,
   "validate.sample_size: the Cox-Snell R^2 0.6 is outside (0, 0.478"},
  {"E-GLM-WIDTH", function() sv.glm.logistic({{1}, {2}, {3}, {4}}, {0, 1, 0, 1}):predict({{1, 2}}) end,
   "X has 2 columns, the model was fitted on 1"},
  -- absurd options
  {"E-OPT-TREES-0", function() sv.forest.train(X6, y6, {trees = 0}) end, "bad option 'trees' to forest.train"},
  {"E-OPT-TREES-HUGE", function() sv.forest.train(X6, y6, {trees = 1000000000}) end, "bad option 'trees' to forest.train"},
  {"E-OPT-MTRY", function() sv.forest.train(X6, y6, {mtry = 5}) end, "bad option 'mtry' to forest.train (5 is out of range"},
  {"E-OPT-MTRY-0", function() sv.forest.train(X6, y6, {mtry = 0.0}) end, "bad option 'mtry' to forest.train"},
  {"E-OPT-MIN-LEAF", function() sv.forest.train(X6, y6, {min_leaf = 0}) end, "bad option 'min_leaf'"},
  {"E-OPT-FRACTION", function() sv.forest.train(X6, y6, {sample_fraction = 0}) end,
   "bad option 'sample_fraction' to forest.train (0 is out of range (0, 1])"},
  {"E-OPT-FRACTION (> 1)", function() sv.forest.train(X6, y6, {sample_fraction = 1.5, bootstrap = false}) end,
   "bad option 'sample_fraction' to forest.train (1.5 is out of range (0, 1])"},
  {"E-OPT-LEVEL", function() sv.surv.rmst({1, 2, 3, 4}, {1, 0, 1, 1}, 3, {conf_level = 1}) end,
   "bad option 'conf_level' to surv.rmst (1 is out of range: must be in (0, 1))"},
  {"E-OPT-LEVEL (km)", function() sv.surv.km({1, 2, 3, 4}, {1, 0, 1, 1}, {conf_level = 0}) end,
   "bad option 'conf_level' to surv.km (0 is out of range: must be in (0, 1))"},
  {"E-OPT-LEVEL (roc)", function() sv.roc.auc({0, 1, 0, 1}, {0.1, 0.2, 0.3, 0.4}, {level = 95}) end,
   "bad option 'level' to roc.auc (95 is out of range: must be in (0, 1))"},
  {"E-OPT-NAN", function() sv.surv.logrank({1, 2, 3, 4}, {1, 0, 1, 1}, {1, 1, 2, 2}, {rho = 0 / 0}) end,
   "bad option 'rho' to surv.logrank (NaN is not a valid value)"},
  {"E-OPT-THREADS", function() sv.forest.train(X6, y6, {threads = -1}) end, "bad option 'threads'"},
  {"E-OPT-DEPTH", function() sv.forest.train(X6, y6, {max_depth = -1}) end, "bad option 'max_depth'"},
  {"E-OPT-WEIGHTS", function() sv.forest.train(X6, y6, {class_weight = {1, -1}}) end, "bad option 'class_weight'"},
  {"E-OPT-UNKNOWN", function() sv.forest.train(X6, y6, {treees = 5}) end, "unknown option 'treees' to forest.train"},
  {"E-OPT-TYPE", function() sv.forest.train(X6, y6, {trees = "many"}) end, "bad option 'trees' to forest.train"},
  {"E-OPT-BOOT-0", function() sv.roc.auc({0, 1, 0, 1}, {0.1, 0.2, 0.3, 0.4}, {ci = "bootstrap", boot = 0}) end,
   "bad option 'boot' to roc.auc"},
  {"E-OPT-K", function() sv.split.kfold(10, {k = 11}) end, "bad option 'k'"},
  {"E-METRIC-RANGE", function() sv.tune.metrics.brier({5, 3, 8}, {1, 0, 1}) end,
   "bad argument #1 to 'tune.metrics.brier' (element 1 is 5, expected 0 or 1)"},
  {"E-METRIC-RANGE (p)", function() sv.tune.metrics.logloss({0, 1}, {0.5, 1.5}) end, "a probability expected"},
  {"E-METRIC-RANGE (bins)", function() sv.plot.calibration_bins({5, 0}, {0.1, 0.2}) end, "expected 0 or 1"},
  -- model files
  {"E-MODEL-MISSING", function() sv.forest.load(tmp .. "/no/such.bin") end, "No such file or directory"},
  {"E-MODEL-DIRECTORY", function() sv.forest.load(tmp) end, "Is a directory"},
  {"E-MODEL-EMPTY", function() sv.forest.load(csv("empty.bin", "")) end, "'" .. tmp .. "/empty.bin' refused: not a sylva forest file"},
  {"E-MODEL-NOT-MODEL", function() sv.forest.load(csv("notmodel.bin", "a,b\n1,2\n")) end, "not a sylva forest file"},
  -- several centres
  {"E-META-K", function() sv.meta.rma({0.5}, {0.1}) end, "bad argument #1 to 'rma' (needs at least 2 estimates)"},
  {"E-META-VI", function() sv.meta.rma({0.5, 0.2}, {0.1, 0}) end,
   "bad argument #2 to 'rma' (element 2 is 0.0, expected a finite sampling variance > 0)"},
  {"E-META-AUC", function() sv.meta.pool_auc({0.7, 1}, {0.02, 0.03}) end,
   "bad argument #1 to 'pool_auc' (centre 2: AUC 1 is not in (0, 1); its logit is not finite)"},
  {"E-META-OE", function() sv.meta.pool_oe({12, 0}, {10, 3}) end,
   "bad argument #1 to 'pool_oe' (centre 2: observed events 0 must be finite and > 0)"},
  {"E-CENTRES-ONE", function() sv.centres.iecv({0, 1, 0}, {"a", "a", "a"}, function() end) end,
   "bad argument #2 to 'centres.iecv' (there is only 1 centre"},
  {"E-UPDATE-ONE-CLASS", function() sv.centres.update({0, 0, 0}, {0.2, 0.3, 0.4}) end,
   "bad argument #1 to 'centres.update' (y holds only class 0: both classes are needed)"},
  {"E-COMBAT-UNSEEN", function()
     local h = sv.harmonise.combat({{1, 5}, {2, 3}, {3, 8}, {4, 1}}, {"a", "a", "b", "b"})
     h:apply({{1, 2}}, {"c"}) end, "bad argument #2 to 'apply' (batch 'c' was not seen in fitting"},
  {"E-COMBAT-FEATURES", function() sv.harmonise.combat({{1, 5}, {1, 3}, {2, 8}, {3, 1}}, {"a", "a", "b", "b"}) end,
   "harmonise.combat: 1 feature vary inside every batch"},
  {"E-COMBAT-MISSING", function() sv.harmonise.combat({{1, 5}, {0 / 0, 3}, {2, 8}, {3, 1}}, {"a", "a", "b", "b"}) end,
   "harmonise.combat: X[2, 1] is"},
}

-- Damaged copies of a real model file.
do
  local f = sv.forest.train(X6, y6, {trees = 3, seed = 1, threads = 1})
  local good_path = tmp .. "/good_model.bin"
  f:save(good_path)
  local good = T.read_file(good_path)
  local function damaged(name, bytes) return csv(name, bytes) end
  -- the FNV-1a 64 trailer over everything before it (docs/forest.md);
  -- Lua's integers wrap modulo 2^64 as the hash needs
  local function rechecksum(bytes)
    local h = 0xcbf29ce484222325
    for i = 1, #bytes - 8 do h = (h ~ bytes:byte(i)) * 0x100000001b3 end
    return bytes:sub(1, #bytes - 8) .. string.pack("<i8", h)
  end
  local flipped = good:sub(1, 100) .. string.char(good:byte(101) ~ 1) .. good:sub(102)
  for _, e in ipairs({
    {"E-MODEL-TRUNCATED", function() sv.forest.load(damaged("trunc.bin", good:sub(1, #good - 10))) end,
     "truncated or padded"},
    {"E-MODEL-PADDED", function() sv.forest.load(damaged("padded.bin", good .. "\0")) end, "truncated or padded"},
    {"E-MODEL-FLIPPED", function() sv.forest.load(damaged("flip.bin", flipped)) end,
     "checksum mismatch: the file is damaged"},
    {"E-MODEL-VERSION", function() sv.forest.load(damaged("v3.bin", good:sub(1, 8) .. "\3" .. good:sub(10))) end,
     "unsupported format version 3"},
    -- mtry (payload offset 8, file offset 32) set to -7 and the checksum
    -- recomputed: the file is intact but its options are absurd
    {"E-MODEL-OPTIONS", function()
      sv.forest.load(damaged("mtry.bin", rechecksum(good:sub(1, 32) .. string.pack("<i4", -7) .. good:sub(37))))
    end, "refused: invalid training options: mtry must be in [1, 2], got -7"},
    {"E-MODEL-OPTIONS", function()
      sv.forest.load(damaged("frac.bin", rechecksum(good:sub(1, 56) .. string.pack("<d", 0 / 0) .. good:sub(65))))
    end, "refused: invalid training options: sample_fraction must be in (0, 1]"},
  }) do catalogue[#catalogue + 1] = e end
  -- a survival forest file whose last leaf's last cumulative hazard (the
  -- last 8 bytes before the trailer) is NaN, or 10^6 (then it disagrees
  -- with the leaf's mortality), checksum recomputed
  local X = {}
  for i = 1, 30 do X[i] = {i % 7, i % 3} end
  local tm, ev = {}, {}
  for i = 1, 30 do tm[i], ev[i] = 31 - i + (i % 4), i % 5 == 0 and 0 or 1 end
  local sf = sv.forest.survival(X, tm, ev, {trees = 3, seed = 1, threads = 1})
  local sp = tmp .. "/good_surv.bin"
  sf:save(sp)
  local sgood = T.read_file(sp)
  local function last_chf(v)
    return rechecksum(sgood:sub(1, #sgood - 16) .. string.pack("<d", v) .. sgood:sub(#sgood - 7))
  end
  -- the message names the last tree and a node
  local function named(path)
    local ok, m = pcall(sv.forest.load, path)
    if not ok and not tostring(m):find("refused: tree 3, node %d+: ") then m = "no tree/node named: " .. tostring(m) end
    error(m, 0)
  end
  for _, e in ipairs({
    {"E-MODEL-SURV-CURVE", function() named(damaged("snan.bin", last_chf(0 / 0))) end,
     "invalid cumulative hazard"},
    {"E-MODEL-SURV-CURVE", function() named(damaged("sbig.bin", last_chf(1e6))) end,
     "disagrees with its curve"},
  }) do catalogue[#catalogue + 1] = e end
end

for _, e in ipairs(catalogue) do
  T.test(e[1], function()
    local msg = T.raises(e[2], e[3])
    -- never a raw Lua error from inside sylva
    T.ok(not msg:find("attempt to", 1, true), msg)
  end)
end

-- No events: the estimates that need events are NaN (R gives NA), never a
-- number that looks like a result.
T.test("E-NO-EVENTS: survival with no events gives NaN where R gives NA", function()
  local km = sv.surv.km({1, 2, 3}, {0, 0, 0})
  T.ok(km.median ~= km.median, "median is NaN")
  T.eq(km.surv[#km.surv], 1, "nothing happened: S stays 1")
  local lr = sv.surv.logrank({1, 2, 3, 4}, {0, 0, 0, 0}, {1, 1, 2, 2})
  T.ok(lr.p ~= lr.p, "log-rank p is NaN")
  local c = sv.surv.concordance({1, 2, 3}, {0, 0, 0}, {1, 2, 3})
  T.ok(c ~= c, "concordance is NaN (no comparable pair)")
  -- (was pcall'd with "an error or NaN" accepted: any error at all, even a
  -- raw Lua one, passed; sv.surv.cox returns NaN and a warning, as R's NA)
  local cox = sv.surv.cox({1, 2, 3, 4}, {0, 0, 0, 0}, {{1}, {2}, {3}, {4}})
  T.ok(cox.coef[1] ~= cox.coef[1], "Cox with no events: NaN coefficient")
  T.ok(cox.warnings[1] and cox.warnings[1]:find("no events", 1, true), "Cox with no events: warning")
end)

T.test("E-CSV-HEADER-ONLY: a header without rows gives an empty frame, not an error", function()
  local d = sv.read_csv(csv("header.csv", "a,b,c\n"))
  T.eq(d:nrow(), 0)
  T.eq(d:ncol(), 3)
end)

T.test("E-CSV-WIDE: 10^6 columns are read (no quadratic blow-up, no crash)", function()
  local t = {}
  for j = 1, 1000000 do t[j] = "c" .. j end
  local hdr = table.concat(t, ",")
  for j = 1, 1000000 do t[j] = tostring(j % 10) end
  local path = csv("wide.csv", hdr .. "\n" .. table.concat(t, ",") .. "\n")
  t = nil
  -- No assertion on time (it would depend on the machine's load): a
  -- quadratic reader would need ~10^12 steps here and run into the
  -- 600 s ctest TIMEOUT (CMakeLists.txt), which fails the test just as surely.
  local d = sv.read_csv(path)
  T.eq(d:ncol(), 1000000)
  T.eq(d:nrow(), 1)
  T.eq(d:col("c999999")[1], 9)
  os.remove(path)
end)

T.test("E-SEED-NEGATIVE: a negative seed is a valid seed (its two's complement), reproducible", function()
  local a = sv.forest.train(X6, y6, {trees = 3, seed = -1, threads = 1}):predict(X6)
  local b = sv.forest.train(X6, y6, {trees = 3, seed = -1, threads = 1}):predict(X6)
  for i = 1, #a do T.eq(a[i], b[i]) end
end)

-- ---- split / encode (Lua layer) --------------------------------------

T.test("E-SPLIT-N: a row count no array can hold is refused, not allocated", function()
  T.raises(function() sv.split.kfold(math.maxinteger, {k = 5}) end, "too large")
  T.raises(function() sv.split.bootstrap(1 << 40) end, "too large")
end)

T.test("E-SPLIT-TAKE: take with an index outside the rows names the index", function()
  T.raises(function() sv.split.take({1, 2, 3}, {1, 4}) end, "index 2 is 4")
  T.raises(function() sv.split.take({1, 2, 3}, {1.5}) end, "index 1 is 1.5")
  T.raises(function() sv.split.take(nil, {1}) end, "bad argument #1 to 'split.take'")
end)

T.test("E-ENC-COMPLETE: encode.complete on something not encoded says what it wants", function()
  T.raises(function() sv.encode.complete({}) end, "bad argument #1 to 'encode.complete'")
end)

T.test("E-PLOT-TICKS: an absurd tick count is refused, not allocated until the system kills sylva", function()
  T.raises(function() sv.plot.nice_ticks(0, 1, math.maxinteger) end, "tick count")
  T.raises(function() sv.plot.nice_ticks(0 / 0, 1, 5) end, "finite numbers")
  local t = sv.plot.nice_ticks(math.maxinteger, math.maxinteger, 5)
  T.ok(#t >= 2 and #t <= 50, "degenerate range still gives a few ticks")
end)

-- ---- encodings and cohort data -----------------------------------------

local function imputed(spec, data)
  local e = sv.encode.check(spec, "enc/x.lua")
  local d = sv.encode.apply(e, data)
  return sv.encode.fit_imputer(d):apply(d)
end

T.test("E-TABLE1-LEVEL: a value outside table1's levels is an error, never dropped", function()
  T.raises(function() sv.table1({her2 = {"positive", "negative", "low", "negative"}},
    {vars = {{name = "her2", levels = {"positive", "low", "zero"}}}}) end,
    "table1: variable 'her2' has value 'negative' (2 rows) not in its levels (positive, low, zero)")
end)

T.test("E-ENC-LINE: a data error names the physical line under a multi-line header, and the patient", function()
  local path = csv("c2.csv", 'ID,"HER2\nstatus"\nP1,pos\n"Breast_\nMRI_029",3\n')
  local e = sv.encode.check({centre = "Siemens", id = "ID", features = {{name = "x", column = "ID", kind = "onehot",
    levels = {"P1", "Breast_\nMRI_029"}}},
    outcomes = {her2 = {column = "HER2\nstatus", kind = "binary", yes = {"pos"}, no = {"neg"}}}}, "enc.lua")
  T.raises(function() sv.encode.apply(e, sv.read_csv(path), {file = "c2.csv"}) end,
    "centre 'Siemens' (c2.csv line 4, patient Breast_\nMRI_029): column 'HER2\nstatus': value '3' is not a yes/no spelling")
end)

T.test("E-ENC-ID: an id column missing from the data is named", function()
  local e = sv.encode.check({centre = "C", id = "MRN", features = {{name = "a", column = "A", kind = "numeric"}}})
  T.raises(function() sv.encode.apply(e, {A = {1}}) end, "column 'MRN' (the patient identifier, id) is not in the data")
end)

T.test("E-ENC-DERIVED-OUTCOME: a derived outcome outside its range names the patient", function()
  local e = sv.encode.check({centre = "C", id = "ID", features = {{name = "a", column = "A", kind = "numeric"}},
    outcomes = {dfs_time = {kind = "derived", from = {"T"}, range = {0, 15}, fn = function(r) return r.T / 30 end}}})
  T.raises(function() sv.encode.apply(e, {ID = {"P1", "P2"}, A = {1, 2}, T = {300, 600}}) end,
    "centre 'C' (row 2, patient P2): derived outcome 'dfs_time': value 20 is outside the plausible range [0, 15]")
end)

T.test("E-ENC-KEEP-COLUMN: a row filter reading a missing column is an error", function()
  local e = sv.encode.check({centre = "C", id = "ID", features = {{name = "a", column = "A", kind = "numeric"}},
    keep = function(r) return r.Vendr == "Siemens" end})
  T.raises(function() sv.encode.apply(e, {ID = {"P1"}, A = {1}, Vendor = {"GE"}}) end,
    "column 'Vendr' is not in the data")
end)

T.test("E-ENC-BASE-CYCLE: encodings whose bases form a cycle are refused", function()
  local a = csv("a.lua", 'return {base = "b.lua", centre = "A"}')
  csv("b.lua", 'return {base = "a.lua", centre = "B"}')
  T.raises(function() sv.encode.load(a) end, "'base' makes a cycle")
end)

T.test("E-ENC-FOLLOWUP: an impossible follow-up names the centre, line and patient", function()
  local e = sv.encode.check({centre = "B", id = "ID", features = {{name = "x", column = "X", kind = "numeric"}},
    outcomes = {t = {column = "T", kind = "numeric"}}})
  local d = sv.encode.apply(e, {ID = {"B1"}, X = {1}, T = {-1}}, {file = "b.csv", header_lines = 2})
  T.raises(function() sv.encode.complete_cases(d, {time = "t"}) end,
    "centre 'B' (b.csv line 3, patient B1): follow-up time 't' is -1; times must be finite and >= 0")
end)

T.test("E-ENC-DERIVED-RANGE: a derived feature's range holds after imputation", function()
  T.raises(function() imputed({centre = "C", features = {
    {name = "a", column = "A", kind = "numeric"}, {name = "b", column = "B", kind = "numeric"},
    {name = "diff", kind = "derived", from = {"a", "b"}, fn = function(r) return r.a - r.b end, range = {0, 100}}},
    impute = {b = {constant = 100}}}, {A = {10, 10}, B = {0, 0 / 0}}) end,
    "centre 'C' (row 2): derived feature 'diff' recomputed from imputed inputs: value -90 is outside")
end)

T.test("E-ENC-DERIVED-INF: a derived function giving an infinity is an error", function()
  T.raises(function() imputed({centre = "C", features = {{name = "b", column = "B", kind = "numeric"},
    {name = "inv", kind = "derived", from = {"b"}, fn = function(r) return 1 / r.b end}},
    impute = {b = {constant = 0}}}, {B = {2, 0 / 0}}) end, "fn returned inf")
end)

T.test("E-ENC-DERIVED-FAIL: an error in a derived function is reported, not swallowed", function()
  T.raises(function() imputed({centre = "C", features = {{name = "b", column = "B", kind = "numeric"},
    {name = "g", kind = "derived", from = {"b"}, fn = function(r) if r.b > 5 then error("b too big") end return r.b end}},
    impute = {b = {constant = 9}}}, {B = {1, 0 / 0}}) end, "b too big")
end)

-- ---- sizes -------------------------------------------------------------

T.test("E-ALLOC: a matrix or vector beyond memory is a Lua error, not an abort", function()
  local ok, out = child([[
    local sv = require "sylva"
    local r = sv.rng(1)
    -- A 2^62-element request overflows the byte count; a 2^40 one fails
    -- in the allocator. Both must come back as Lua errors.
    local ok1, e1 = pcall(function() return r:sample(1 << 31, 0) end)
    print("RESULT sample", ok1, e1)
    local big = setmetatable({}, {__len = function() return 1 << 40 end})
    local ok2, e2 = pcall(sv.vector, big)
    print("RESULT vector", ok2, e2)
    local rows = setmetatable({}, {__len = function() return 1 << 40 end,
                                   __index = function() return {1} end})
    local ok3, e3 = pcall(sv.matrix, rows)
    print("RESULT matrix", ok3, e3)
  ]])
  T.ok(ok, out)
  T.ok(out:find("RESULT sample\tfalse", 1, true), out)
  T.ok(out:find("RESULT vector\tfalse", 1, true), out)
  T.ok(out:find("RESULT matrix\tfalse", 1, true), out)
end)

T.done()
