-- split.lua - cohort splits (sv.split): stratified hold-out, stratified
-- k-fold, repeated k-fold, by-group (centre) splits and bootstrap resamples.
--
-- Every split is a function of (labels, options, seed) only: the generator
-- is sv.rng(seed, stream) with one stream per independent unit (repetition,
-- bootstrap replicate), so a split is reproduced exactly from its seed.
-- Indices are 1-based row numbers, each returned array sorted ascending.

local sv = require "sylva"
local M = {}
local args = require "sylva.args"
local isnan = args.isnan
local check_opts = args.opts
local check_seed = args.seed

-- Labels from a number n (no strata), a Vector, or an array (numbers,
-- strings, false for missing). Missing labels form one stratum of their own.
local function labels(y, fname)
  if math.type(y) == "integer" then
    if y < 0 then error(("bad argument #1 to '%s' (n must be >= 0)"):format(fname), 3) end
    -- A Lua array holds fewer than 2^31 elements; a larger count would
    -- exhaust memory (and be killed by the system) before failing.
    if y >= 2^31 then error(("bad argument #1 to '%s' (n = %d rows is too large)"):format(fname, y), 3) end
    local t = {}
    for i = 1, y do t[i] = 1 end
    return t, y
  end
  if type(y) ~= "table" and type(y) ~= "userdata" then
    error(("bad argument #1 to '%s' (labels (array or Vector) or a row count expected)"):format(fname), 3)
  end
  local n = #y
  local t = {}
  for i = 1, n do
    local v = y[i]
    if v == nil or v == false or (type(v) == "number" and isnan(v)) then v = "\0NA" end
    t[i] = v
  end
  return t, n
end

-- Strata in a stable order: {key, indices ascending}.
local function strata(lab, n, stratify)
  local groups, keys = {}, {}
  for i = 1, n do
    local k = stratify and lab[i] or 1
    if not groups[k] then groups[k] = {}; keys[#keys + 1] = k end
    local g = groups[k]
    g[#g + 1] = i
  end
  table.sort(keys, function(a, b)
    if a == "\0NA" or b == "\0NA" then return b == "\0NA" and a ~= b end -- missing last
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = {key = k, idx = groups[k]} end
  return out
end

local function sorted(t) table.sort(t); return t end

--- sv.split.holdout(y [, {prop = 0.7, seed = 1, stratify = true}]) -> train, test
function M.holdout(y, opts)
  opts = check_opts(opts, {prop = 1, seed = 1, stratify = 1}, "split.holdout")
  local seed = check_seed(opts, "split.holdout")
  local prop = opts.prop or 0.7
  if type(prop) ~= "number" or not (prop > 0 and prop < 1) then
    error("bad option 'prop' to split.holdout (a fraction in (0, 1) expected)", 2)
  end
  local lab, n = labels(y, "split.holdout")
  local stratify = opts.stratify ~= false
  local r = sv.rng(seed, 0)
  local train, test = {}, {}
  for _, s in ipairs(strata(lab, n, stratify)) do
    local idx = r:shuffle(s.idx)
    local k = math.floor(#idx * prop + 0.5)
    for a = 1, #idx do
      if a <= k then train[#train + 1] = idx[a] else test[#test + 1] = idx[a] end
    end
  end
  return sorted(train), sorted(test)
end

-- Assigns fold numbers 1..k: each stratum shuffled, then dealt round-robin,
-- continuing where the previous stratum stopped so fold sizes differ by at
-- most one overall and class proportions by at most one per stratum.
local function assign_folds(lab, n, k, stratify, r)
  local fold = {}
  local next_fold = 0
  for _, s in ipairs(strata(lab, n, stratify)) do
    local idx = r:shuffle(s.idx)
    for _, i in ipairs(idx) do
      fold[i] = next_fold + 1
      next_fold = (next_fold + 1) % k
    end
  end
  return fold
end

local function folds_from(fold, n, k)
  local out = {}
  for f = 1, k do out[f] = {train = {}, test = {}, fold = f} end
  for i = 1, n do
    for f = 1, k do
      local t = (fold[i] == f) and out[f].test or out[f].train
      t[#t + 1] = i
    end
  end
  return out
end

local function check_k(opts, n, fname)
  local k = opts.k or 5
  if math.type(k) ~= "integer" or k < 2 then error(("bad option 'k' to %s (integer >= 2 expected)"):format(fname), 3) end
  if k > n then error(("bad option 'k' to %s (%d folds for %d rows)"):format(fname, k, n), 3) end
  return k
end

--- sv.split.kfold(y [, {k = 5, seed = 1, stratify = true}]) -> folds
function M.kfold(y, opts)
  opts = check_opts(opts, {k = 1, seed = 1, stratify = 1}, "split.kfold")
  local seed = check_seed(opts, "split.kfold")
  local lab, n = labels(y, "split.kfold")
  local k = check_k(opts, n, "split.kfold")
  local fold = assign_folds(lab, n, k, opts.stratify ~= false, sv.rng(seed, 0))
  return folds_from(fold, n, k)
end

--- sv.split.repeated_kfold(y [, {k = 5, repeats = 10, seed = 1, stratify = true}]) -> folds
function M.repeated_kfold(y, opts)
  opts = check_opts(opts, {k = 1, repeats = 1, seed = 1, stratify = 1}, "split.repeated_kfold")
  local seed = check_seed(opts, "split.repeated_kfold")
  local lab, n = labels(y, "split.repeated_kfold")
  local k = check_k(opts, n, "split.repeated_kfold")
  local reps = opts.repeats or 10
  if math.type(reps) ~= "integer" or reps < 1 then
    error("bad option 'repeats' to split.repeated_kfold (integer >= 1 expected)", 2)
  end
  local out = {}
  for rep = 1, reps do
    -- Stream rep - 1: repetition 1 is exactly kfold with the same seed.
    local fold = assign_folds(lab, n, k, opts.stratify ~= false, sv.rng(seed, rep - 1))
    for _, f in ipairs(folds_from(fold, n, k)) do
      f.rep = rep
      out[#out + 1] = f
    end
  end
  return out
end

--- sv.split.by_group(groups [, {test = {...}}]) -> folds, or train, test
function M.by_group(groups, opts)
  opts = check_opts(opts, {test = 1}, "split.by_group")
  local lab, n = labels(groups, "split.by_group")
  if opts.test ~= nil then
    local test_set = {}
    local tl = type(opts.test) == "table" and opts.test or {opts.test}
    for _, g in ipairs(tl) do test_set[g] = true end
    local seen = {}
    local train, test = {}, {}
    for i = 1, n do
      if test_set[lab[i]] then test[#test + 1] = i; seen[lab[i]] = true else train[#train + 1] = i end
    end
    for _, g in ipairs(tl) do
      if not seen[g] then error(("bad option 'test' to split.by_group (no row in group '%s')"):format(tostring(g)), 2) end
    end
    return train, test
  end
  -- Leave one group out: one fold per group, in sorted group order.
  local out = {}
  for _, s in ipairs(strata(lab, n, true)) do
    local in_test = {}
    for _, i in ipairs(s.idx) do in_test[i] = true end
    local train = {}
    for i = 1, n do if not in_test[i] then train[#train + 1] = i end end
    local group = s.key
    if group == "\0NA" then group = false end -- the rows with a missing label
    out[#out + 1] = {group = group, train = train, test = s.idx}
  end
  return out
end

--- sv.split.bootstrap(y [, {B = 200, seed = 1, stratify = false}]) -> resamples
function M.bootstrap(y, opts)
  opts = check_opts(opts, {B = 1, seed = 1, stratify = 1}, "split.bootstrap")
  local seed = check_seed(opts, "split.bootstrap")
  local lab, n = labels(y, "split.bootstrap")
  local B = opts.B or 200
  if math.type(B) ~= "integer" or B < 1 then error("bad option 'B' to split.bootstrap (integer >= 1 expected)", 2) end
  if n == 0 then error("bad argument #1 to 'split.bootstrap' (no rows)", 2) end
  local st = strata(lab, n, opts.stratify == true)
  local out = {}
  for b = 1, B do
    local r = sv.rng(seed, b - 1)
    local drawn, count = {}, {}
    for _, s in ipairs(st) do
      local m = #s.idx
      for _ = 1, m do
        local i = s.idx[r:integer(1, m)]
        drawn[#drawn + 1] = i
        count[i] = (count[i] or 0) + 1
      end
    end
    local oob = {}
    for i = 1, n do if not count[i] then oob[#oob + 1] = i end end
    out[b] = {train = sorted(drawn), oob = oob, b = b}
  end
  return out
end

--- sv.split.take(x, idx) -> the elements of x at idx (array or Vector in, same kind out)
function M.take(x, idx)
  if type(x) ~= "table" and not (type(x) == "userdata" and getmetatable(x) and getmetatable(x).__len) then
    error("bad argument #1 to 'split.take' (array or Vector expected)", 2)
  end
  if type(idx) ~= "table" then error("bad argument #2 to 'split.take' (array of row indices expected)", 2) end
  local n = #x
  local t = {}
  for a, i in ipairs(idx) do
    if math.type(i) ~= "integer" or i < 1 or i > n then
      error(("bad argument #2 to 'split.take' (index %d is %s, not a row in [1, %d])"):format(a, tostring(i), n), 2)
    end
    t[a] = x[i]
  end
  if type(x) == "userdata" then return sv.vector(t) end
  return t
end

return M
