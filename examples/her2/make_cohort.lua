-- make_cohort.lua - the bundled two-centre HER2 cohort: a synthetic stand-in
-- for the private data of Chen et al. 2026 (Curr. Oncol. 33:53).
--
--   sylva examples/her2/make_cohort.lua [outdir]     (`make cohort`)
--
-- writes outdir/center1.csv (480 patients) and outdir/center2.csv (198
-- patients); outdir defaults to examples/her2/data. The committed CSVs are
-- exactly what this script writes: every random draw comes from sv.rng (one
-- stream per patient, derived from SEED), the only arithmetic is IEEE-754
-- basic operations (exp and log are written below from + - * /, not libm's),
-- and every number is formatted by a fixed string.format, so the files are
-- byte-identical on every machine.
--
-- The generating ("true") model, in the order it is drawn for each patient,
-- is documented in docs/her2-cohort.md. In short:
--   * features first, from realistic marginal distributions with the usual
--     correlations (age -> menopause and breast density, size -> nodes,
--     edema, skin changes);
--   * HER2 positive vs negative from a logistic model in which tumour size,
--     axillary lymph nodes, fibroglandular tissue, peritumoral edema and
--     multifocality carry most of the signal (Task 1);
--   * among HER2-negative patients, HER2-low vs HER2-zero from a second,
--     weaker logistic model of size, edema and multifocality (Task 2);
--   * disease-free survival from a Weibull proportional-hazards model of the
--     HER2 group, size and nodes, censored by staggered entry (12-60 months
--     of follow-up) and loss to follow-up.
-- The two centres then record the same truth differently: column names,
-- category codes, units, yes/no spellings, missing-value spellings.
local sv = require "sylva"

local SEED = 20260116          -- the paper's publication date
local CENTRES = {
  {id = 1, n = 480, age_mean = 53, size_median = 22},
  {id = 2, n = 198, age_mean = 55, size_median = 24},  -- a slightly older, larger-tumour case mix
}

-- ---- portable elementary functions (basic IEEE arithmetic only) ---------

local LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10

-- exp(x) = 2^k * exp(r), |r| <= ln2/2, exp(r) by its Taylor series.
local function pexp(x)
  local k = math.floor(x / 0.6931471805599453 + 0.5)
  local r = (x - k * LN2_HI) - k * LN2_LO
  local term, sum = 1.0, 1.0
  for i = 1, 24 do
    term = term * r / i
    sum = sum + term
  end
  if k > 0 then for _ = 1, k do sum = sum * 2 end
  else for _ = 1, -k do sum = sum / 2 end end
  return sum
end

-- log(x) for x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
-- log(m) = 2 atanh((m - 1) / (m + 1)) by its series.
local function plog(x)
  assert(x > 0, "plog of a non-positive number")
  local e = 0
  while x >= 1.4142135623730951 do x = x / 2; e = e + 1 end
  while x < 0.7071067811865476 do x = x * 2; e = e - 1 end
  local s = (x - 1) / (x + 1)
  local s2, term, sum = s * s, s, 0.0
  for i = 1, 59, 2 do
    sum = sum + term / i
    term = term * s2
  end
  return 2 * sum + e * LN2_HI + e * LN2_LO
end

local function logistic(x) return 1 / (1 + pexp(-x)) end

local function clamp(x, lo, hi) return x < lo and lo or (x > hi and hi or x) end

local function round(x) return math.floor(x + 0.5) end

-- index of the first cumulative probability above u (probabilities sum to 1)
local function categorical(u, probs)
  local c = 0
  for i = 1, #probs - 1 do
    c = c + probs[i]
    if u < c then return i end
  end
  return #probs
end

-- ordinal category of a latent value by ascending cut points
local function cut(x, cuts)
  for i = 1, #cuts do if x < cuts[i] then return i end end
  return #cuts + 1
end

-- ---- the true model -----------------------------------------------------
-- Coefficients are on the logit scale (HER2) or the log-hazard scale (DFS).
-- `s` is the standardised log size: log(size_mm / 22) / 0.5.
local TRUTH = {
  task1 = {                -- logit P(HER2-positive)
    intercept = -2.10,
    size = 0.60, nodes = 0.95, fgt = 0.47, edema = 0.95, multifocal = 1.00,
    nonmass = 0.35, washout = 0.20,
  },
  task2 = {                -- logit P(HER2-low | HER2-negative)
    intercept = 1.00,
    size = -0.85, edema = -1.45, multifocal = 1.35,
    rim = -0.50, t2_high = -0.45,
  },
  dfs = {                  -- Weibull PH: H(t) = lambda * t^shape * exp(lp), t in months
    lambda = 0.0008, shape = 1.3,
    positive = 0.55, zero = 0.60, size = 0.35, nodes = 0.55, multifocal = 0.30,
  },
  loss_rate = 0.003,       -- loss to follow-up per month (exponential)
}

-- One patient: every draw in a fixed order from the patient's own stream,
-- so a change elsewhere (another centre's size, say) never moves it.
local function patient(centre, i)
  local r = sv.rng(SEED, centre.id * 100000 + i)
  local p = {}

  p.age = round(clamp(r:normal(centre.age_mean, 11), 26, 86))
  p.post = r:uniform() < logistic((p.age - 50.5) / 2.0)

  local s = 0.5 * r:normal() + plog(centre.size_median / 22)
  p.size_mm = round(clamp(22 * pexp(s), 5, 120))
  s = plog(p.size_mm / 22) / 0.5

  -- fibroglandular tissue a..d (1..4): denser in younger women
  p.fgt = cut(0.045 * (53 - p.age) + r:normal(), {-1.43, -0.06, 1.16})
  -- background parenchymal enhancement minimal..marked (1..4)
  p.bpe = cut(0.5 * (p.post and 0 or 1) + 0.3 * (p.fgt - 2.5) + r:normal(),
              {-0.15, 0.85, 1.55})
  p.nonmass = r:uniform() < 0.17
  local u_shape, u_margin = r:uniform(), r:uniform()
  if p.nonmass then
    p.shape, p.margin = 0, 0                       -- not applicable
  else
    p.shape = categorical(u_shape, {0.25, 0.15, 0.60})      -- oval, round, irregular
    p.margin = p.shape == 3 and categorical(u_margin, {0.08, 0.52, 0.40})
                             or categorical(u_margin, {0.55, 0.35, 0.10})
  end                                                       -- circumscribed, irregular, spiculated
  p.enhancement = categorical(r:uniform(), p.nonmass and {0.30, 0.65, 0.05}
                                                      or {0.18, 0.60, 0.22})  -- homogeneous, heterogeneous, rim
  p.tic = categorical(r:uniform(), {0.15, 0.40, 0.45})      -- persistent, plateau, washout
  p.t2 = categorical(r:uniform(), {0.25, 0.40, 0.35})       -- low, iso, high
  p.nodes = r:uniform() < logistic(-0.55 + 0.45 * s)
  p.edema = r:uniform() < logistic(-1.05 + 0.45 * s + 0.35 * (p.t2 == 3 and 1 or 0))
  p.multifocal = r:uniform() < logistic(-1.35 + 0.20 * s)
  p.skin = r:uniform() < logistic(-3.3 + 0.7 * s)
  p.nipple = r:uniform() < logistic(-3.0 + 0.6 * s)
  p.adc = clamp(0.95 + 0.06 * (p.edema and 1 or 0) + 0.05 * (p.t2 - 2)
                + r:normal(0, 0.16), 0.50, 1.80)

  -- HER2 group: Task 1 first, then Task 2 among the negatives
  local t1, t2 = TRUTH.task1, TRUTH.task2
  local b = function(x) return x and 1 or 0 end
  local lp1 = t1.intercept + t1.size * s + t1.nodes * b(p.nodes) + t1.fgt * (p.fgt - 2.5)
    + t1.edema * b(p.edema) + t1.multifocal * b(p.multifocal)
    + t1.nonmass * b(p.nonmass) + t1.washout * b(p.tic == 3)
  local lp2 = t2.intercept + t2.size * s + t2.edema * b(p.edema)
    + t2.multifocal * b(p.multifocal) + t2.rim * b(p.enhancement == 3)
    + t2.t2_high * b(p.t2 == 3)
  local u1, u2 = r:uniform(), r:uniform()
  p.her2 = u1 < logistic(lp1) and "positive" or (u2 < logistic(lp2) and "low" or "zero")
  p.ihc_u = r:uniform()            -- which IHC score centre 2 records for the group

  -- disease-free survival (months)
  local d = TRUTH.dfs
  local lps = d.positive * b(p.her2 == "positive") + d.zero * b(p.her2 == "zero")
    + d.size * s + d.nodes * b(p.nodes) + d.multifocal * b(p.multifocal)
  local e = -plog(1 - r:uniform())                          -- Exp(1)
  local t = pexp(plog(e / (d.lambda * pexp(lps))) / d.shape)
  local admin = 12 + 48 * r:uniform()
  local loss = -plog(1 - r:uniform()) / TRUTH.loss_rate
  local c = math.min(admin, loss)
  p.dfs = math.max(math.min(t, c), 0.1)
  p.event = t <= c

  -- missing values: one uniform per maskable field, always drawn
  p.miss = {}
  for _, f in ipairs({"size", "fgt", "bpe", "t2", "adc", "edema", "enhancement"}) do
    p.miss[f] = r:uniform()
  end
  return p
end

-- ---- how each centre writes it down ------------------------------------

local function yn(x, yes, no) return x and yes or no end

local C1 = {
  header = {"patient_id", "age", "menopause", "tumor_size_mm", "fgt", "bpe", "lesion_type",
            "shape", "margin", "internal_enhancement", "tic_type", "t2_signal", "adc",
            "peritumoral_edema", "multifocal", "axillary_ln", "skin_change", "nipple_change",
            "her2_status", "dfs_months", "dfs_event"},
  -- missing-value probability per field; centre 1 leaves the cell empty
  missing = {size = 0.005, fgt = 0.01, bpe = 0.03, t2 = 0.02, adc = 0.05, edema = 0.02, enhancement = 0.0},
  row = function(p, i, miss)
    local function m(f, v) return miss(f) and "" or v end
    return {
      ("P%04d"):format(i),
      ("%d"):format(p.age),
      yn(p.post, "post", "pre"),
      m("size", ("%d"):format(p.size_mm)),
      m("fgt", ({"a", "b", "c", "d"})[p.fgt]),
      m("bpe", ({"minimal", "mild", "moderate", "marked"})[p.bpe]),
      yn(p.nonmass, "non-mass", "mass"),
      p.nonmass and "non-mass" or ({"oval", "round", "irregular"})[p.shape],
      p.nonmass and "non-mass" or ({"circumscribed", "irregular", "spiculated"})[p.margin],
      m("enhancement", ({"homogeneous", "heterogeneous", "rim"})[p.enhancement]),
      ({"I", "II", "III"})[p.tic],
      m("t2", ({"hypo", "iso", "hyper"})[p.t2]),
      m("adc", ("%.2f"):format(p.adc)),
      m("edema", yn(p.edema, "yes", "no")),
      yn(p.multifocal, "yes", "no"),
      yn(p.nodes, "positive", "negative"),
      yn(p.skin, "yes", "no"),
      yn(p.nipple, "yes", "no"),
      p.her2,
      ("%.1f"):format(p.dfs),
      p.event and "1" or "0",
    }
  end,
}

local C2 = {
  header = {"ID", "Age", "Menopausal_status", "Size_cm", "FGT", "BPE", "Lesion", "Shape",
            "Margin", "Enhancement", "TIC", "T2", "ADC_1e6", "Peritumoral_edema",
            "Multifocal", "ALN", "Skin", "Nipple", "HER2", "DFS_days", "Recurrence"},
  missing = {size = 0.01, fgt = 0.0, bpe = 0.04, t2 = 0.03, adc = 0.08, edema = 0.03, enhancement = 0.02},
  row = function(p, i, miss)
    -- centre 2's export spells a missing value three ways
    local na = ({"NA", "n/a", ""})[i % 3 + 1]
    local function m(f, v) return miss(f) and na or v end
    local ihc
    if p.her2 == "positive" then ihc = p.ihc_u < 0.75 and "3+" or "2+/ISH+"
    elseif p.her2 == "low" then ihc = p.ihc_u < 0.60 and "1+" or "2+/ISH-"
    else ihc = "0" end
    return {
      ("GZ-%03d"):format(i),
      ("%d"):format(p.age),
      yn(p.post, "postmenopausal", "premenopausal"),
      m("size", ("%.1f"):format(p.size_mm / 10)),
      m("fgt", ("%d"):format(p.fgt)),
      m("bpe", ("%d"):format(p.bpe)),
      yn(p.nonmass, "NME", "Mass"),
      p.nonmass and "NME" or ({"Oval", "Round", "Irregular"})[p.shape],
      p.nonmass and "NME" or ({"Circumscribed", "Irregular", "Spiculated"})[p.margin],
      m("enhancement", ({"Homogeneous", "Heterogeneous", "Rim"})[p.enhancement]),
      ({"1", "2", "3"})[p.tic],
      m("t2", ({"low", "iso", "high"})[p.t2]),
      m("adc", ("%d"):format(round(p.adc * 1000))),
      m("edema", yn(p.edema, "Y", "N")),
      yn(p.multifocal, "1", "0"),
      yn(p.nodes, "Yes", "No"),
      yn(p.skin, "Y", "N"),
      yn(p.nipple, "Y", "N"),
      ihc,
      ("%d"):format(math.max(1, round(p.dfs * 30.4375))),
      yn(p.event, "Y", "N"),
    }
  end,
}

local function write_centre(path, centre, fmt)
  local lines = {table.concat(fmt.header, ",")}
  for i = 1, centre.n do
    local p = patient(centre, i)
    local miss = function(f) return p.miss[f] < fmt.missing[f] end
    lines[#lines + 1] = table.concat(fmt.row(p, i, miss), ",")
  end
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

-- arg[2], a multiplier of the centre sizes, is for calibrating the true
-- model on a large sample (docs/her2-cohort.md); the committed files use 1.
local outdir = arg and arg[1] or "examples/her2/data"
local scale = tonumber(arg and arg[2]) or 1
for _, c in ipairs(CENTRES) do c.n = c.n * scale end
write_centre(outdir .. "/center1.csv", CENTRES[1], C1)
write_centre(outdir .. "/center2.csv", CENTRES[2], C2)
print(("wrote %s/center1.csv (%d patients) and %s/center2.csv (%d patients)")
  :format(outdir, CENTRES[1].n, outdir, CENTRES[2].n))
