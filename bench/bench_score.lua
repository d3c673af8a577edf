-- bench_score.lua - `sylva score`: scoring new patients with a model bundle,
-- with and without per-patient explanations (exact TreeSHAP, the K = 3
-- largest contributions in the CSV), end to end: read the CSV, encode it
-- with the centre's encoding, impute with the training statistics, score,
-- explain, write the CSV.
--
-- The bundle holds a 500-tree forest trained on 678 rows (the size of the
-- HER2 study) of 6 study-like features (size, ADC, age, three binary
-- findings). The peer is the same bundle scoring without explanations, in
-- the same run: the ratio says what the explanations cost.
--
-- Environment: SCORE_BENCH_N (patients scored, 10,000 by default so that
-- `make bench` stays short; SCORE_BENCH_N=100000 is the issue's full size),
-- SCORE_BENCH_TREES (500), SCORE_BENCH_THREADS (0 = all cores).
local sv = require "sylva"

local N = tonumber(os.getenv("SCORE_BENCH_N")) or 10000
local TREES = tonumber(os.getenv("SCORE_BENCH_TREES")) or 500
local THREADS = tonumber(os.getenv("SCORE_BENCH_THREADS")) or 0
local tmp = (os.getenv("SYLVA_TMP") or "/tmp") .. "/bench_score"
os.execute(("mkdir -p %q"):format(tmp))

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

-- A study-like cohort as a raw CSV (one row per patient).
local function cohort_csv(path, n, seed)
  local lines = {"pid,size_mm,adc,age,edema,aln,multifocal,outcome"}
  for i = 1, n do
    local r = sv.rng(seed, i)
    local size = math.floor(22 * math.exp(0.5 * r:normal()) + 0.5)
    local adc = math.floor(64 * (0.8 + 0.4 * r:uniform())) / 64
    local age = math.floor(53 + 11 * r:normal() + 0.5)
    local edema, aln, multi = r:uniform() < 0.4 and 1 or 0, r:uniform() < 0.35 and 1 or 0, r:uniform() < 0.2 and 1 or 0
    local lin = -1.2 + 0.03 * (size - 22) + 0.6 * edema + 0.5 * aln - 2.0 * (adc - 1.0) - 0.02 * (age - 53)
    local y = r:uniform() < 1 / (1 + math.exp(-lin)) and 1 or 0
    lines[#lines + 1] = ("P%d,%d,%.17g,%d,%d,%d,%d,%d"):format(i, size, adc, age, edema, aln, multi, y)
  end
  write(path, table.concat(lines, "\n") .. "\n")
end

local enc_path = tmp .. "/enc.lua"
write(enc_path, [[return {centre = "Bench", id = "pid", features = {
  {name = "size_mm", column = "size_mm", kind = "numeric", label = "Tumour size (mm)"},
  {name = "adc", column = "adc", kind = "numeric", label = "ADC (10^-3 mm2/s)"},
  {name = "age", column = "age", kind = "numeric", label = "Age (years)"},
  {name = "edema", column = "edema", kind = "binary", yes = {"1"}, no = {"0"}, label = "Peritumoral edema"},
  {name = "aln", column = "aln", kind = "binary", yes = {"1"}, no = {"0"}, label = "Axillary lymph nodes"},
  {name = "multifocal", column = "multifocal", kind = "binary", yes = {"1"}, no = {"0"}, label = "Multifocal"},
}, impute = {["*"] = "median"},
outcomes = {y = {column = "outcome", kind = "binary", yes = {"1"}, no = {"0"}}}}
]])

local train_csv, new_csv = tmp .. "/train.csv", tmp .. "/new.csv"
cohort_csv(train_csv, 678, 1)
cohort_csv(new_csv, N, 2)

local enc = sv.encode.load(enc_path)
local d = sv.encode.apply(enc, sv.read_csv(train_csv))
local imp = sv.encode.fit_imputer(d)
local di = imp:apply(d)
local t0 = sv.clock()
local forest = sv.forest.train(di.X, d.outcomes.y, {trees = TREES, seed = 1, mtry = 2, min_leaf = 5, threads = THREADS})
local t_train = sv.clock() - t0
local ranges = {}
for j, name in ipairs(di.names) do
  local col = di.X:col(j)
  local lo, hi = math.huge, -math.huge
  for i = 1, #col do lo = math.min(lo, col[i]); hi = math.max(hi, col[i]) end
  ranges[name] = {lo, hi}
end
local svm = tmp .. "/model.svm"
sv.bundle.save(svm, {model = forest, selected = di.names, features = di.names, impute = imp.stats,
  training_range = ranges, cutoff = 0.3, encoding = {source = "", path = "enc.lua"}})

-- sylva score, end to end in this process (the CLI's code path)
local function run(explain)
  local out = tmp .. (explain and "/scored_explain.csv" or "/scored.csv")
  local args = {svm, new_csv, "--encoding", enc_path, "--out", out}
  if explain then args[#args + 1] = "--explain"; args[#args + 1] = "3" end
  if THREADS > 0 then args[#args + 1] = "--threads"; args[#args + 1] = tostring(THREADS) end
  collectgarbage()
  local t = sv.clock()
  assert(sv.bundle.cli(args), "sylva score failed")
  return sv.clock() - t
end

run(false) -- warm the file cache
local plain = run(false)
local explained = run(true)
print(("score %d patients with a %d-tree forest (trained in %.1f s), %s threads:"):format(N, TREES, t_train,
  THREADS == 0 and "all" or tostring(THREADS)))
print(("  without explanations  %8.2f s"):format(plain))
print(("  with --explain 3      %8.2f s   (%.1f x the time without; %.0f patients/s)"):format(explained,
  explained / plain, N / explained))
if N < 100000 then
  print(("  SCORE_BENCH_N=100000 for the issue's full size (about %.0f s at this rate)"):format(explained * 100000 / N))
end
