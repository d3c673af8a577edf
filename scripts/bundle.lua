-- bundle.lua - sv.bundle: a model bundle (.svm) holds everything needed to
-- apply a developed model to new patients exactly as it was developed: the
-- development encoding (its source text), the training imputation
-- statistics, the feature list, the model (a forest through the forest's own
-- checksummed format, or a logistic model's coefficients), the cut-off, an
-- optional recalibration, the class labels, the training range of every
-- model feature and the provenance. docs/scoring.md.
--
-- The container is parsed in Lua (no C parser to fuzz): a text header
--
--   SYLVA-MODEL-BUNDLE
--   version 1
--   length <bytes of the payload>
--   sha256 <hex digest of the payload>
--   <blank line>
--   <payload>
--
-- and a payload that is data, never code: a typed, length-prefixed
-- serialisation read by a bounds-checked recursive parser (strings
-- "s<len>:<bytes>", numbers "n<%a>;", integers "i<digits>;", booleans
-- "T"/"F", tables "t<count>;" then key, value pairs). The checksum is
-- verified before the payload is parsed, and a forest inside is then read by
-- the engine's own checksummed, fuzzed loader (tests/fuzz/fuzz_forest.c).
-- tests/lua/test_bundle.lua damages a small bundle at every byte (flip and
-- truncate) and checks every damaged copy is refused with an error.

local sv = require "sylva"
local M = {}

M.FORMAT_VERSION = 1
local MAGIC = "SYLVA-MODEL-BUNDLE"

local isnan = function(x) return x ~= x end

---------------------------------------------------------------------------
-- Serialisation of plain data
---------------------------------------------------------------------------

local function num_text(x)
  if isnan(x) then return "nan" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  return ("%a"):format(x)
end

local function encode_value(v, out, depth)
  if depth > 64 then error("bundle.save: data nested deeper than 64 levels", 0) end
  local t = type(v)
  if t == "string" then
    out[#out + 1] = "s" .. #v .. ":" .. v
  elseif t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = "i" .. v .. ";"
    else out[#out + 1] = "n" .. num_text(v) .. ";" end
  elseif t == "boolean" then
    out[#out + 1] = v and "T" or "F"
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do
      local kt = type(k)
      if kt ~= "string" and kt ~= "number" then
        error(("bundle.save: a key of type %s cannot be stored"):format(kt), 0)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) == "number" end
      return a < b
    end)
    out[#out + 1] = "t" .. #keys .. ";"
    for _, k in ipairs(keys) do
      encode_value(k, out, depth + 1)
      encode_value(v[k], out, depth + 1)
    end
  elseif t == "userdata" and getmetatable(v) and v.totable then
    encode_value(v:totable(), out, depth)
  else
    error(("bundle.save: a value of type %s cannot be stored"):format(t), 0)
  end
end

function M._encode(v)
  local out = {}
  encode_value(v, out, 0)
  return table.concat(out)
end

-- Parser: returns value, next position; errors are plain strings.
local function decode_value(s, pos, depth)
  if depth > 64 then error("nested deeper than 64 levels", 0) end
  local tag = s:sub(pos, pos)
  if tag == "s" then
    local len, at = s:match("^(%d+):()", pos + 1)
    len = len and tonumber(len)
    if not len then error(("bad string at byte %d"):format(pos), 0) end
    if at + len - 1 > #s then error(("string at byte %d runs past the end"):format(pos), 0) end
    return s:sub(at, at + len - 1), at + len
  elseif tag == "n" then
    local txt, at = s:match("^([^;]*);()", pos + 1)
    if not txt then error(("bad number at byte %d"):format(pos), 0) end
    local x
    if txt == "nan" then x = 0 / 0 elseif txt == "inf" then x = math.huge elseif txt == "-inf" then x = -math.huge
    elseif txt:match("^%-?0x[%x.]+p[%+%-]%d+$") then x = tonumber(txt) end
    if type(x) ~= "number" then error(("bad number '%s' at byte %d"):format(txt, pos), 0) end
    return x + 0.0, at
  elseif tag == "i" then
    local txt, at = s:match("^(%-?%d+);()", pos + 1)
    local x = txt and math.tointeger(tonumber(txt))
    if not x then error(("bad integer at byte %d"):format(pos), 0) end
    return x, at
  elseif tag == "T" then return true, pos + 1
  elseif tag == "F" then return false, pos + 1
  elseif tag == "t" then
    local cnt, at = s:match("^(%d+);()", pos + 1)
    cnt = cnt and tonumber(cnt)
    if not cnt or cnt > #s then error(("bad table at byte %d"):format(pos), 0) end
    local t = {}
    for _ = 1, cnt do
      local k, v
      k, at = decode_value(s, at, depth + 1)
      if type(k) ~= "string" and type(k) ~= "number" then error(("bad key at byte %d"):format(at), 0) end
      if k ~= k then error(("NaN key at byte %d"):format(at), 0) end
      v, at = decode_value(s, at, depth + 1)
      t[k] = v
    end
    return t, at
  end
  error(("unknown tag at byte %d"):format(pos), 0)
end

function M._decode(s)
  local ok, v, at = pcall(decode_value, s, 1, 0)
  if not ok then return nil, v end
  if at ~= #s + 1 then return nil, ("%d bytes after the data"):format(#s + 1 - at) end
  return v
end

---------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------

function M._mkdir(dir)
  os.execute(("mkdir -p '%s' 2>/dev/null"):format(dir:gsub("'", "'\\''")))
end

local function read_all(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

local function tmp_path()
  local p = os.tmpname()
  return p
end

-- A forest's bytes, through its own checksummed format.
-- A survival forest is saved with its leaf curves (docs/survforest.md).
local function forest_bytes(f)
  if type(f.save) ~= "function" then
    error(("bundle.save: a %s forest has no file format yet, so it cannot go into a bundle"):format(
      type(f.kind) == "function" and f:kind() or "model"), 0)
  end
  local p = tmp_path()
  f:save(p)
  local s = read_all(p)
  os.remove(p)
  return s
end

local function forest_from_bytes(s, path)
  local p = tmp_path()
  local h = assert(io.open(p, "wb"))
  h:write(s)
  h:close()
  local ok, f = pcall(sv.forest.load, p)
  os.remove(p)
  if not ok then error(("bundle: %s: the model inside is damaged: %s"):format(path, tostring(f)), 0) end
  return f
end

local function vec_list(v)
  if v == nil then return nil end
  if type(v) == "table" then return v end
  local out = {}
  for i = 1, #v do out[i] = v[i] end
  return out
end

---------------------------------------------------------------------------
-- Bundle objects
---------------------------------------------------------------------------

local Bundle = {}
Bundle.__index = Bundle
M._Bundle = Bundle

local FIELDS = {kind = 1, model = 1, task = 1, encoding = 1, features = 1, selected = 1, impute = 1,
  training_range = 1, levels = 1, units = 1, labels = 1, cutoff = 1, groups = 1, recalibration = 1, classes = 1,
  provenance = 1, card = 1, positive_class = 1, cutoff_rule = 1}

-- What the bundle's model predicts: "survival" (a survival forest's risk),
-- "multiclass" (a forest of K > 2 classes) or "binary" (a probability).
local function outcome_kind(b)
  if b.kind == "forest" and type(b.model) == "userdata" then
    local k = b.model:kind()
    if k == "survival" then return "survival" end
    if k == "classification" and #b.model:classes() > 2 then return "multiclass" end
  end
  return "binary"
end
M._outcome_kind = outcome_kind

-- The class labels of a K-class bundle, in the forest's class order: the
-- bundle's `classes` list when it has one (a study codes its classes 1..K),
-- else the forest's own labels.
local function class_labels(b)
  local own = b.model:classes()
  if type(b.classes) == "table" and #b.classes == #own then return b.classes end
  return own
end

--- sv.bundle.new(t) -> a bundle (checked); t's fields as docs/scoring.md lists them
function M.new(t)
  if type(t) ~= "table" then error("bad argument #1 to 'bundle.new' (table expected)", 2) end
  for k in pairs(t) do
    if not FIELDS[k] then error(("bundle.new: unknown field '%s'"):format(tostring(k)), 2) end
  end
  local b = {}
  for k, v in pairs(t) do b[k] = v end
  if b.kind == nil then
    b.kind = (type(b.model) == "table" and b.model.coef) and "logistic" or "forest"
  end
  if b.kind ~= "forest" and b.kind ~= "logistic" then
    error(("bundle.new: kind must be \"forest\" or \"logistic\", got %s"):format(tostring(b.kind)), 2)
  end
  if b.model == nil then error("bundle.new: model is required", 2) end
  if type(b.selected) ~= "table" or #b.selected == 0 then
    error("bundle.new: selected must list the model's features", 2)
  end
  if type(b.encoding) ~= "table" or type(b.encoding.source) ~= "string" then
    error("bundle.new: encoding = {source = the development encoding's text, path =} is required", 2)
  end
  if b.cutoff ~= nil and type(b.cutoff) ~= "number" then error("bundle.new: cutoff must be a number", 2) end
  if b.cutoff_rule ~= nil and b.cutoff_rule ~= ">=" and b.cutoff_rule ~= ">" then
    error(("bundle.new: cutoff_rule must be \">=\" or \">\", got %s"):format(tostring(b.cutoff_rule)), 2)
  end
  if b.recalibration and b.kind == "forest" and type(b.model) == "userdata" and b.model:kind() == "survival" then
    error("bundle.new: a recalibration applies to probabilities, not to a survival forest's risk " ..
          "(ensemble mortality)", 2)
  end
  b.features = b.features or b.selected
  b.impute = b.impute or {}
  b.groups = b.groups or {"high", "low"}
  b.training_range = b.training_range or {}
  b.provenance = b.provenance or {}
  b.provenance.sylva_version = b.provenance.sylva_version or sv.version()
  if b.kind == "logistic" then
    local m = b.model
    b.model = {coef = vec_list(m.coef), intercept = m.intercept ~= false, names = m.names or b.selected}
    if #b.model.coef ~= #b.selected + (b.model.intercept and 1 or 0) then
      error(("bundle.new: the logistic model has %d coefficients for %d features"):format(#b.model.coef,
        #b.selected), 2)
    end
  end
  return setmetatable(b, Bundle)
end

--- sv.bundle.save(path, b): writes the bundle atomically (versioned, checksummed)
function M.save(path, b)
  if type(path) ~= "string" then error("bad argument #1 to 'bundle.save' (path expected)", 2) end
  if getmetatable(b) ~= Bundle then b = M.new(b) end
  local data = {}
  for k in pairs(FIELDS) do data[k] = b[k] end
  if b.kind == "forest" then data.model = forest_bytes(b.model) end
  local payload = M._encode(data)
  local head = ("%s\nversion %d\nlength %d\nsha256 %s\n\n"):format(MAGIC, M.FORMAT_VERSION, #payload,
    sv.sha256(payload))
  sv.write_atomic(path, head .. payload)
end

local function damaged(path, why)
  error(("bundle: %s: not a usable model bundle (%s); the file is damaged or truncated: copy it again " ..
         "from its source"):format(path, why), 0)
end

--- sv.bundle.load(path) -> b (refuses a damaged, truncated or newer-version file)
function M.load(path)
  if type(path) ~= "string" then error("bad argument #1 to 'bundle.load' (path expected)", 2) end
  local s, err = read_all(path)
  if not s then error(("bundle: %s: cannot open: %s"):format(path, tostring(err)), 0) end
  if s:sub(1, #MAGIC + 1) ~= MAGIC .. "\n" then
    if #s < #MAGIC + 1 and MAGIC:sub(1, #s) == s then damaged(path, "truncated header") end
    error(("bundle: %s: not a model bundle (a .svm file starts with %s)"):format(path, MAGIC), 0)
  end
  local ver, len, hex, at = s:match("^version (%d+)\nlength (%d+)\nsha256 (%x+)\n\n()", #MAGIC + 2)
  if not ver then
    local v = s:match("^version (%d+)\n", #MAGIC + 2)
    if v and tonumber(v) > M.FORMAT_VERSION then
      error(("bundle: %s: format version %s is newer than this sylva reads (%d): update sylva"):format(path, v,
        M.FORMAT_VERSION), 0)
    end
    damaged(path, "bad header")
  end
  ver, len = tonumber(ver), tonumber(len)
  if ver > M.FORMAT_VERSION then
    error(("bundle: %s: format version %d is newer than this sylva reads (%d): update sylva"):format(path, ver,
      M.FORMAT_VERSION), 0)
  end
  if ver < 1 then damaged(path, "bad version " .. ver) end
  local payload = s:sub(at)
  if #payload ~= len then
    damaged(path, ("%d bytes of data, the header says %d"):format(#payload, len))
  end
  if #hex ~= 64 or sv.sha256(payload) ~= hex then damaged(path, "checksum mismatch") end
  local data, why = M._decode(payload)
  if type(data) ~= "table" then damaged(path, why or "no data") end
  for k in pairs(data) do
    if not FIELDS[k] then damaged(path, "unknown field " .. tostring(k)) end
  end
  if data.kind == "forest" then
    if type(data.model) ~= "string" then damaged(path, "no forest") end
    data.model = forest_from_bytes(data.model, path)
  elseif data.kind ~= "logistic" then
    damaged(path, "unknown model kind")
  end
  local ok, b = pcall(M.new, data)
  if not ok then damaged(path, tostring(b)) end
  b.path = path
  b.bytes = #s
  b.sha256 = sv.sha256(s)
  return b
end

function Bundle:__tostring()
  local ok, kind = pcall(outcome_kind, self)
  local what = ""
  if ok and kind == "survival" then what = " (survival: risk)"
  elseif ok and kind == "multiclass" then what = " (classes " .. table.concat(class_labels(self), ", ") .. ")" end
  return ("Bundle: %s%s%s, %d feature%s (%s), cut-off %s%s"):format(self.kind, what,
    self.task and self.task.id and (" for task " .. self.task.id) or "",
    #self.selected, #self.selected == 1 and "" or "s", table.concat(self.selected, ", "),
    self.cutoff and ((self.cutoff_rule == ">" and "> " or "") .. ("%.4g"):format(self.cutoff)) or "none",
    self.recalibration and ", recalibrated" or "")
end

---------------------------------------------------------------------------
-- Scoring
---------------------------------------------------------------------------

-- The unit of a label, from its last parenthesis: "Tumour size (mm)" -> "mm".
local function unit_of(label)
  if type(label) ~= "string" then return nil end
  return label:match("%(([^()]*)%)%s*$")
end
M._unit_of = unit_of

local function logit(p) return math.log(p / (1 - p)) end
local function expit(x) return 1 / (1 + math.exp(-x)) end

-- The model's raw probabilities on the matrix X of its features.
function Bundle:predict(X)
  if getmetatable(self) ~= Bundle then error("bad self to 'predict' (a bundle from sv.bundle.load expected)", 2) end
  if self.kind == "forest" then return self.model:predict(X) end
  if not self._glm then
    self._glm = sv.glm.from_coef({coef = self.model.coef, intercept = self.model.intercept,
      names = self.model.names})
  end
  return self._glm:predict(X)
end

local function apply_recal(r, p)
  if not r then return p end
  local a, s = r.intercept or 0, r.slope or 1
  -- scores are kept `clip` away from 0 and 1 (as when the update was
  -- fitted: a forest can score exactly 0 or 1)
  local clip = r.clip or 1e-12
  local out = {}
  for i = 1, #p do
    local q = p[i]
    q = math.min(math.max(q, clip), 1 - clip)
    out[i] = expit(a + s * logit(q))
  end
  return sv.vector(out)
end

-- Checks that the new centre's encoding gives the bundle's features, with
-- the same levels and units, before any row is read.
function Bundle:check_encoding(enc, data_path)
  if getmetatable(self) ~= Bundle then error("bad self to 'check_encoding' (a bundle from sv.bundle.load expected)", 2) end
  if type(enc) ~= "table" or type(enc.features) ~= "table" then
    error("bad argument #1 to 'check_encoding' (an encoding from sv.encode.load expected)", 2)
  end
  local by_output = {}
  for _, f in ipairs(enc.features) do
    for _, o in ipairs(f.outputs) do by_output[o] = f end
  end
  local where = enc.path or "the encoding"
  for _, col in ipairs(self.selected) do
    local f = by_output[col]
    if not f then
      error(("score: the model needs feature '%s', which %s does not define (map a column of %s onto it)")
        :format(col, where, data_path or "the data"), 0)
    end
  end
  for name, levels in pairs(self.levels or {}) do
    local f = enc.by_name[name]
    if f and f.level_names then
      local have = table.concat(f.level_names, ", ")
      if have ~= table.concat(levels, ", ") then
        local known = {}
        for _, lv in ipairs(levels) do known[lv] = true end
        local extra
        for _, lv in ipairs(f.level_names) do if not known[lv] then extra = lv; break end end
        error(("score: feature '%s' (column '%s' of %s): level%s; the model knows the levels %s")
          :format(name, tostring(f.column), where,
            extra and (" '" .. extra .. "' is unknown to the model") or (" order " .. have .. " differs"),
            table.concat(levels, ", ")), 0)
      end
    end
  end
  for name, unit in pairs(self.units or {}) do
    local f = enc.by_name[name]
    local u = f and unit_of(f.label)
    if u and u ~= unit then
      error(("score: feature '%s' (column '%s' of %s) is in '%s'; the model was developed in '%s': " ..
             "scale it in the encoding (scale =) and label it (%s)"):format(name, tostring(f.column), where, u,
             unit, unit), 0)
    end
  end
end

local SCORE_OPTS = {encoding = 1, id = 1, explain = 1, threads = 1}

--- b:score(frame_or_path, {encoding = path | enc [, id =, explain = K, threads =]}) -> result
-- result = {n =, ids =, score = Vector, group = {...}, outside = {{...}}, lines =, d = encoded data,
--           X = the model's input matrix, phi =, base = (with explain)}
function Bundle:score(data, opts)
  if getmetatable(self) ~= Bundle then error("bad self to 'score' (a bundle from sv.bundle.load expected)", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #2 to 'score' (options table expected)", 2) end
  for k in pairs(opts) do
    if not SCORE_OPTS[k] then error(("unknown option '%s' to bundle score"):format(tostring(k)), 2) end
  end
  local enc = opts.encoding
  if type(enc) == "string" then enc = sv.encode.load(enc)
  elseif type(enc) ~= "table" or not enc.features then
    error("bad argument #2 to 'score' ({encoding = the encoding file of this data} expected; docs/scoring.md)", 2)
  end
  local path
  if type(data) == "string" then
    path = data
    data = sv.encode.read(path)
  end
  self:check_encoding(enc, path)
  local raw = sv.encode.apply(enc, data, {id = opts.id, file = path})
  local d = sv.encode.impute(raw, self.impute)
  local n = d.n
  local X = n > 0 and d.X:cols(self.selected) or nil
  local p = n > 0 and self:predict(X) or sv.vector({})
  local group, ids, outside = {}, {}, {}
  for i = 1, n do ids[i] = raw.ids and raw.ids[i] or tostring(raw.rows[i]) end
  -- K > 2 classes: the class probabilities, the predicted class as the group
  local classes = self.kind == "forest" and self.model:kind() == "classification" and self.model:classes() or nil
  local probs, predicted
  if classes and #classes > 2 then
    if self.recalibration then error("score: a recalibration applies to a binary model, not to K classes", 0) end
    classes = class_labels(self)
    probs, predicted = p, {}
    local best = {}
    for i = 1, n do
      local k = 1
      for c = 2, #classes do if probs:get(i, c) > probs:get(i, k) then k = c end end
      predicted[i], best[i] = k, probs:get(i, k)
      group[i] = tostring(classes[k])
    end
    p = sv.vector(best)
  else
    classes = nil
    p = apply_recal(self.recalibration, p)
    -- high at or above the cut-off; above it with cutoff_rule ">" (a
    -- study's survival risk groups: risk > the training cut-point)
    local cut, strict = self.cutoff, self.cutoff_rule == ">"
    if cut then
      for i = 1, n do
        local high = strict and p[i] > cut or (not strict and p[i] >= cut)
        group[i] = high and self.groups[1] or self.groups[2]
      end
    end
  end
  local rawX = n > 0 and raw.X:cols(self.selected) or nil
  local ranges = self.training_range or {}
  -- model features with missing values (imputed from training), per feature
  local missing = sv.encode._missing_counts(raw, self.selected)
  for j, name in ipairs(self.selected) do
    local r = ranges[name]
    if r then
      local col = rawX:col(j)
      for i = 1, n do
        local x = col[i]
        if not isnan(x) and (x < r[1] or x > r[2]) then
          outside[i] = outside[i] or {}
          outside[i][#outside[i] + 1] = ("%s=%s"):format(name, ("%.6g"):format(x))
        end
      end
    end
  end
  -- a survival forest scores risk (ensemble mortality), not a probability
  local measure = self.kind == "forest" and self.model:kind() == "survival" and "risk" or "probability"
  local res = {n = n, ids = ids, score = p, group = group, outside = outside, missing = missing, d = d, raw = raw, X = X,
               lines = raw.lines, file = path, probs = probs, classes = classes, predicted = predicted,
               measure = measure}
  if opts.explain and n > 0 then
    if self.kind ~= "forest" then
      error("score: explanations (--explain) are for forest bundles", 0)
    end
    if classes then
      -- each patient's explanation is that of the predicted class's probability
      local phis, bases = sv.shap.tree(self.model, X, {threads = opts.threads})
      local rows, rb = {}, {}
      for i = 1, n do
        local k = predicted[i]
        local r = phis[k]:row(i)
        rows[i] = type(r) == "table" and r or r:totable()
        rb[i] = bases[k]
      end
      res.phi, res.bases = sv.matrix(rows, self.selected), rb
      res.base = rb[1]
    else
      res.phi, res.base = sv.shap.tree(self.model, X, {threads = opts.threads})
    end
  end
  return res
end

---------------------------------------------------------------------------
-- The scored CSV and the per-patient pages
---------------------------------------------------------------------------

local function fmt(x)
  if x == nil then return "" end
  if type(x) == "number" then
    if isnan(x) then return "NA" end
    if math.type(x) == "integer" then return tostring(x) end
    return ("%.17g"):format(x)
  end
  return tostring(x)
end

-- The column indexes of the k largest |SHAP| values of one row, largest
-- first, ties to the lower column. A partial insertion of each column into
-- the k kept so far: O(p k), no sort and no closure per patient (this runs
-- once for each of 100,000 patients).
local function top_k(phi_row, k)
  local out, mag, m = {}, {}, 0
  local abs = math.abs
  for j = 1, #phi_row do
    local a = abs(phi_row[j])
    if m < k or a > mag[m] then
      local pos = m < k and m + 1 or m
      -- shift smaller magnitudes down (a strict >: an equal one stays ahead)
      while pos > 1 and a > mag[pos - 1] do
        out[pos], mag[pos] = out[pos - 1], mag[pos - 1]
        pos = pos - 1
      end
      out[pos], mag[pos] = j, a
      if m < k then m = m + 1 end
    end
  end
  return out
end
M._top_k = top_k

local function csv_cell(s)
  s = tostring(s)
  if s:find('[,"\n\r]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- sv.bundle.csv(b, res [, K]) -> the scored patients as CSV text
function M.csv(b, res, k)
  k = k or 0
  local head = {"id", "score", "group"}
  for _, c in ipairs(res.classes or {}) do head[#head + 1] = "p_" .. tostring(c) end
  for m = 1, k do
    head[#head + 1] = ("feature_%d"):format(m)
    head[#head + 1] = ("value_%d"):format(m)
    head[#head + 1] = ("shap_%d"):format(m)
  end
  head[#head + 1] = "outside_training_range"
  local lines = {table.concat(head, ",")}
  local phi = res.phi and res.phi:totable()
  local X = res.X and k > 0 and res.X:totable()
  for i = 1, res.n do
    local row = {csv_cell(res.ids[i]), fmt(res.score[i]), csv_cell(res.group[i] or "")}
    for c = 1, res.classes and #res.classes or 0 do row[#row + 1] = fmt(res.probs:get(i, c)) end
    if k > 0 then
      local top = phi and top_k(phi[i], k) or {}
      for m = 1, k do
        local j = top[m]
        row[#row + 1] = j and csv_cell(b.selected[j]) or ""
        row[#row + 1] = j and fmt(X[i][j]) or ""
        row[#row + 1] = j and fmt(phi[i][j]) or ""
      end
    end
    row[#row + 1] = csv_cell(res.outside[i] and table.concat(res.outside[i], ";") or "")
    lines[#lines + 1] = table.concat(row, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

local function value_words(x, unit)
  local s
  if x == math.floor(x) and math.abs(x) < 1e9 then s = ("%d"):format(x) else s = ("%.3g"):format(x) end
  if unit and unit ~= "" then s = s .. " " .. unit end
  return s
end

--- sv.bundle.sentence(b, res, i [, k]) -> a plain sentence explaining patient i's score
function M.sentence(b, res, i, k)
  k = k or 3
  local phi = res.phi:row(i)
  local x = res.X:row(i)
  local parts = {}
  local measure = res.measure or "probability"
  for _, j in ipairs(top_k(phi, k)) do
    local name = b.selected[j]
    local label = (b.labels and b.labels[name]) or name
    local unit = b.units and b.units[name]
    local short = label:gsub("%s*%b()%s*$", "")
    parts[#parts + 1] = ("%s %s %s the %s by %.2f"):format(short, value_words(x[j], unit),
      phi[j] >= 0 and "raised" or "lowered", measure, math.abs(phi[j]))
  end
  local base = res.bases and res.bases[i] or res.base
  local s
  if res.classes then
    s = ("The predicted class is %s, with probability %.2f (its average over the training patients is %.2f)")
      :format(res.group[i], res.score[i], base)
  else
    s = ("The model's average %s is %.2f; for this patient it is %.2f"):format(measure, base, res.score[i])
    if b.cutoff then s = s .. (" (%s group at the cut-off %.3f)"):format(res.group[i], b.cutoff) end
  end
  s = s .. ". " .. (#parts > 0 and (parts[1]:gsub("^%l", string.upper)) or "")
  for m = 2, #parts do s = s .. (m == #parts and " and " or ", ") .. parts[m] end
  return s .. "."
end

local function safe_name(id)
  return (tostring(id):gsub("[^%w_%-.]", "_"))
end

--- sv.bundle.html(b, res, dir): one page per patient (waterfall figure and sentence) and an index
function M.html(b, res, dir)
  if not res.phi then error("bundle.html: the result has no explanations (score with explain)", 2) end
  M._mkdir(dir)
  local index = {"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Scored patients</title></head><body>",
    ("<h1>Scored patients</h1><p>Model: %s</p><table><tr><th>id</th><th>score</th><th>group</th><th>outside training range</th></tr>")
      :format(html_escape(tostring(b)))}
  local seen = {}
  for i = 1, res.n do
    local name = safe_name(res.ids[i])
    if seen[name] then name = name .. "_" .. i end
    seen[name] = true
    local svg = sv.plot.waterfall(res.phi:row(i), res.bases and res.bases[i] or res.base, res.X:row(i),
      {names = b.selected, labels = b.labels})
    local out = res.outside[i] and table.concat(res.outside[i], ", ")
    local page = table.concat({
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Patient ", html_escape(res.ids[i]), "</title></head><body>",
      "<h1>Patient ", html_escape(res.ids[i]), "</h1>",
      ("<p>Score %.3f%s</p>"):format(res.score[i], res.group[i] and (", " .. html_escape(res.group[i]) .. " group") or ""),
      "<p>", html_escape(M.sentence(b, res, i)), "</p>",
      out and ("<p><strong>Outside the training range:</strong> %s — the model has not seen such values; " ..
               "its score for this patient is an extrapolation.</p>"):format(html_escape(out)) or "",
      tostring(svg),
      "<p><a href=\"index.html\">All patients</a></p></body></html>\n"})
    sv.write_atomic(dir .. "/" .. name .. ".html", page)
    index[#index + 1] = ("<tr><td><a href=\"%s.html\">%s</a></td><td>%.3f</td><td>%s</td><td>%s</td></tr>")
      :format(html_escape(name), html_escape(res.ids[i]), res.score[i], html_escape(res.group[i] or ""),
        html_escape(out or ""))
  end
  index[#index + 1] = "</table></body></html>\n"
  sv.write_atomic(dir .. "/index.html", table.concat(index, "\n"))
end


---------------------------------------------------------------------------
-- From a study task, and the model card
---------------------------------------------------------------------------

local function file_sha(path)
  local ok, h = pcall(sv.sha256_file, path)
  return ok and h or nil
end

-- The model card's performance of a binary task, per set: AUC, the cut-off
-- metrics (the study's, ctx.discrimination) and calibration.
local function binary_card_sets(ctx)
  local sets = {}
  for k, set in ipairs(ctx.sets) do
    local row = {name = set.name, n = #set.y, positives = 0, centre = set.centre or ctx.dev.name}
    for i = 1, #set.y do if set.y[i] == 1 then row.positives = row.positives + 1 end end
    local disc = ctx.discrimination and ctx.discrimination[k]
    if disc and disc.auc then
      for _, f in ipairs({"auc", "auc_lo", "auc_hi", "sensitivity", "sens_lo", "sens_hi", "specificity",
                          "spec_lo", "spec_hi", "accuracy", "acc_lo", "acc_hi"}) do
        row[f] = disc[f]
      end
      row.brier = sv.calib.brier(set.y, set.score)
      local sum = 0
      for i = 1, #set.score do sum = sum + set.score[i] end
      row.mean_predicted, row.observed = sum / #set.score, row.positives / #set.y
      -- the logistic recalibration needs every score inside (0, 1); a forest can score exactly 0 or 1
      local ok, cal = pcall(sv.calib.slope, set.y, set.score)
      if ok then row.cal_intercept, row.cal_slope, row.citl = cal.intercept, cal.slope, cal.citl end
    end
    sets[#sets + 1] = row
  end
  return sets
end

-- plain copies of the study's table rows (numbers and strings only)
local function copy_rows(rows, fields)
  local out = {}
  for i, r in ipairs(rows or {}) do
    local c = {}
    for _, f in ipairs(fields) do
      local v = r[f]
      if type(v) == "number" or type(v) == "string" then c[f] = v end
    end
    out[i] = c
  end
  return out
end

-- What each task kind adds to the bundle: its task description, classes,
-- cut-off and groups, and the model card's tables, all taken from the
-- study's own numbers in the task context (never recomputed).
local KIND = {}

KIND.binary = function(ctx, card)
  local task = ctx.task
  card.sets = binary_card_sets(ctx)
  return {
    task = {id = task.id, title = task.title, label = task.label, outcome = task.outcome,
            positive = task.positive, negative = task.negative},
    cutoff = ctx.cut, groups = {"high", "low"},
    classes = {positive = task.positive or {"yes"}, negative = task.negative or {"other levels"}},
    positive_class = task.label,
  }
end

KIND.multiclass = function(ctx, card)
  local task, classes = ctx.task, ctx.classes
  -- per set: patients of each class, Hand and Till's M with its bootstrap
  -- CI, the multiclass Brier score and accuracy (ctx.discrimination)
  local sets = {}
  for k, d in ipairs(ctx.discrimination or {}) do
    local set = ctx.sets[k]
    local row = {name = d.set, n = d.n, centre = set and set.centre or ctx.dev.name, counts = {},
      auc = d.auc, auc_lo = d.auc_lo, auc_hi = d.auc_hi, brier = d.brier, accuracy = d.accuracy,
      classes_present = d.classes_present}
    for j, c in ipairs(classes) do row.counts[j] = d[c] or 0 end
    sets[k] = row
  end
  card.sets = sets
  card.per_class = copy_rows(ctx.per_class, {"set", "class", "n", "sensitivity", "specificity", "ppv"})
  card.class_calibration = copy_rows(ctx.calibration, {"set", "class", "n", "brier"})
  return {
    task = {id = task.id, title = task.title, label = task.label, kind = "multiclass", outcome = task.outcome},
    -- the forest's class k is classes[k] (the study codes y 1..K in this order)
    classes = classes,
  }
end

KIND.survival = function(ctx, card)
  local task, spec = ctx.task, ctx.spec
  local sp = spec.survival or {}
  card.sets = copy_rows(ctx.concordance, {"set", "n", "events", "harrell_c", "harrell_lo", "harrell_hi",
    "uno_c", "uno_lo", "uno_hi"})
  card.time_dependent = copy_rows(ctx.time_dependent, {"set", "time", "cases", "controls", "auc", "auc_lo",
    "auc_hi", "brier", "brier_lo", "brier_hi", "ibs"})
  card.surv_calibration = copy_rows(ctx.calibration, {"set", "time", "observed", "expected", "oe", "oe_lo",
    "oe_hi", "slope", "slope_lo", "slope_hi"})
  card.riskgroups = copy_rows(ctx.riskgroups, {"set", "n", "n_high", "n_low", "events", "logrank_chisq",
    "logrank_p"})
  local cp = ctx.cutpoint
  if cp then card.cutpoint = {cut = cp.cut, statistic = cp.statistic, p = cp.p, ncuts = cp.ncuts} end
  card.unit = sp.unit
  return {
    task = {id = task.id, title = task.title, label = task.label, kind = "survival",
            time = task.time or sp.time, event = task.event or sp.event, unit = sp.unit,
            horizons = task.horizons, horizon = task.horizon},
    -- the study's risk groups: risk > the training cut-point is high risk;
    -- named "high"/"low" as every bundle's (api.md), whatever the report
    -- calls them (survival.groups)
    cutoff = ctx.cut, cutoff_rule = ctx.cut and ">" or nil, groups = {"high", "low"},
  }
end

--- sv.bundle.from_study(ctx) -> the bundle of a done study task (ctx of sv.study's steps)
function M.from_study(ctx)
  if type(ctx) ~= "table" or not ctx.model or not ctx.selected or not ctx.imputer then
    error("bad argument #1 to 'bundle.from_study' (a task context after sv.study.final and discrimination expected)", 2)
  end
  local task_kind = ctx.task.kind or "binary"
  local add = KIND[task_kind]
  if not add then error(("bundle.from_study: no model bundle for a task of kind '%s'"):format(tostring(task_kind)), 0) end
  local enc = ctx.dev.enc
  local source = enc.path and read_all(enc.path)
  if not source then error(("bundle.from_study: cannot read the development encoding %s"):format(tostring(enc.path)), 0) end
  local selected = ctx.selected
  local in_model = {}
  for _, c in ipairs(selected) do in_model[c] = true end
  local levels, units = {}, {}
  for _, f in ipairs(enc.features) do
    local used = false
    for _, o in ipairs(f.outputs) do if in_model[o] then used = true end end
    if used then
      if f.kind == "onehot" and f.level_names then levels[f.name] = f.level_names end
      local u = unit_of(f.label)
      if u then
        for _, o in ipairs(f.outputs) do units[o] = u end
        units[f.name] = u
      end
    end
  end
  -- the range of every model feature in the training rows, before imputation
  local range = {}
  local raw = ctx.train.raw.X:cols(selected)
  for j, name in ipairs(selected) do
    local col = raw:col(j)
    local lo, hi = math.huge, -math.huge
    for i = 1, #col do
      local x = col[i]
      if not isnan(x) then
        if x < lo then lo = x end
        if x > hi then hi = x end
      end
    end
    if lo <= hi then range[name] = {lo, hi} end
  end
  local stats = {}
  for name, st in pairs(ctx.imputer.stats) do
    stats[name] = {rule = st.rule, value = st.value, level = st.level, n = st.n}
  end
  local task = ctx.task
  local spec = ctx.spec
  -- the tuned options without `threads` (which never changes a result): the
  -- bundle is the same bytes with any number of threads
  local options = {}
  for k, v in pairs(ctx.forest or {}) do if k ~= "threads" then options[k] = v end end
  local card = {kind = task_kind, title = spec.title, task_title = task.title, label = task.label,
    development = {centre = ctx.dev.name, n = ctx.dev.d.n, counts = ctx.counts},
    externals = {}, options = options, trees = spec.model.trees, n_features_all = #ctx.dev.d.names,
    notes = ctx.notes}
  for i, e in ipairs(ctx.externals or {}) do card.externals[i] = {centre = e.name, n = e.d.n} end
  local fields = add(ctx, card)
  local date = os.getenv("SOURCE_DATE_EPOCH") and os.date("!%Y-%m-%d", tonumber(os.getenv("SOURCE_DATE_EPOCH")))
    or os.date("!%Y-%m-%d")
  local t = {
    kind = "forest", model = ctx.model,
    encoding = {source = source, path = enc.path:match("[^/]+$"), sha256 = sv.sha256(source), centre = enc.centre},
    features = ctx.dev.d.names, selected = selected, impute = stats, training_range = range,
    levels = levels, units = units, labels = sv.study.feature_labels(enc),
    provenance = {sylva_version = sv.version(), seed = spec.seed, date = date,
      data_sha256 = {[ctx.dev.data:match("[^/]+$")] = file_sha(ctx.dev.data)},
      script_sha256 = spec.path and file_sha(spec.path) or nil,
      script = spec.path and spec.path:match("[^/]+$") or nil,
      encoding_sha256 = sv.sha256(source)},
    card = card,
  }
  for k, v in pairs(fields) do t[k] = v end
  return M.new(t)
end

local function ci(x, lo, hi, pct)
  if x == nil then return "—" end
  if pct then return ("%.1f%% (%.1f–%.1f)"):format(100 * x, 100 * lo, 100 * hi) end
  return ("%.3f (%.3f–%.3f)"):format(x, lo, hi)
end

local function num(x, f)
  if x == nil or isnan(x) then return "—" end
  return (f or "%.3f"):format(x)
end

M.TRIPOD_AI = {
  {"1, 2", "Title and abstract: the model, its outcome and the populations (report title, task title)"},
  {"5", "Sources of data: development and external centres, with file checksums"},
  {"6", "Participants: patients per centre, left out for a missing outcome, in the task"},
  {"7", "Data preparation: the development encoding (in the bundle) and imputation from training rows only"},
  {"8", "Outcome: the task's outcome and its positive and negative levels"},
  {"9", "Predictors: the selected features, their units and training ranges"},
  {"11", "Missing data: the imputation rule and value of every feature"},
  {"12", "Analytical methods: forest options, tuning, selection, cut-off rule, seed"},
  {"12e", "Performance measures: AUC (DeLong CI), sensitivity, specificity, accuracy (exact CIs), calibration"},
  {"14", "Open science: the bundle, its checksums and the sylva version reproduce every score"},
  {"20-23", "Results: participants and performance per set, with confidence intervals"},
  {"24, 27", "Limitations and usability: known limits and intended use below"},
}

-- The TRIPOD+AI items whose text depends on the task kind.
local TRIPOD_KIND = {
  multiclass = {
    ["8"] = "Outcome: the task's outcome and its classes",
    ["12"] = "Analytical methods: forest options, tuning and selection by the multiclass AUC, the most probable class as the prediction, seed",
    ["12e"] = "Performance measures: Hand and Till's multiclass AUC (bootstrap CI), accuracy, per-class sensitivity and specificity, Brier scores",
  },
  survival = {
    ["8"] = "Outcome: the follow-up time and event, and the time unit",
    ["12"] = "Analytical methods: random survival forest options, the risk cut-point rule, seed",
    ["12e"] = "Performance measures: Harrell's and Uno's C (jackknife CIs), AUC(t) and Brier(t) at the horizons, calibration at a horizon, log-rank test by risk group",
  },
}

-- a count as a whole number (event counts are sums of 0/1 doubles)
local function count_text(x)
  if type(x) == "number" and x == math.floor(x) and math.abs(x) < 1e15 then return ("%d"):format(x) end
  return tostring(x)
end

local function count_words(c, classes)
  local parts = {}
  for _, cl in ipairs(classes or {}) do parts[#parts + 1] = ("%s %d"):format(cl, c[cl] or 0) end
  return table.concat(parts, ", ")
end

-- The card's content: {title, intended, data, sections = {{heading, rows, note}}, limits, tripod}.
local function card_parts(b)
  local c = b.card or {}
  local task = b.task or {}
  local kind = outcome_kind(b)
  local p = {}
  local features = ("%d feature%s (%s)"):format(#b.selected, #b.selected == 1 and "" or "s",
    table.concat(b.selected, ", "))
  local centre = c.development and (" (" .. tostring(c.development.centre) .. ")") or ""
  local cut_text = b.cutoff and ("%.4f"):format(b.cutoff) or "(none)"
  p.title = ("Model card: %s"):format(task.title or task.id or "model")
  if kind == "survival" then
    -- a survival forest scores risk, not the probability of a level
    local groups
    if b.cutoff then
      groups = ("A risk %s the cut-off %s puts the patient in the \"%s\" group, else in the \"%s\" group.")
        :format(b.cutoff_rule == ">" and "above" or "at or above", cut_text, b.groups[1], b.groups[2])
    else
      groups = "The bundle has no cut-off: it gives the risk, and no risk group."
    end
    local outcome = ""
    if task.time or task.event then
      outcome = (" The outcome is the time to event '%s' (follow-up time '%s'%s).")
        :format(tostring(task.event), tostring(task.time), task.unit and (", in " .. task.unit) or "")
    end
    p.intended = ("Estimates a patient's risk (the random survival forest's ensemble mortality: the sum of " ..
      "the predicted cumulative hazard over the forest's time grid; higher = worse prognosis; not a " ..
      "probability) from %s, for patients like those of the development centre%s.%s %s It supports, and " ..
      "does not replace, clinical judgement; it was not developed for other populations or outcomes.")
      :format(features, centre, outcome, groups)
  elseif kind == "multiclass" then
    local labels = class_labels(b)
    p.intended = ("Estimates, for each of the %d classes of the outcome '%s' (%s), the probability that a " ..
      "patient belongs to it, from %s, for patients like those of the development centre%s. The predicted " ..
      "class (the group) is the most probable one; there is no cut-off. It supports, and does not replace, " ..
      "clinical judgement; it was not developed for other populations or outcomes."):format(#labels,
      tostring(task.outcome), table.concat(labels, ", "), features, centre)
  else
    p.intended = ("Estimates the probability that a patient is %s (outcome '%s'; positive = %s) from %s, for " ..
      "patients like those of the development centre%s. A score at or above the cut-off %s puts the " ..
      "patient in the \"%s\" group. It supports, and does not replace, clinical judgement; it was not developed " ..
      "for other populations or outcomes."):format(task.label or "positive", tostring(task.outcome),
      table.concat(task.positive or b.classes and b.classes.positive or {}, ", "), features, centre, cut_text,
      b.groups[1])
  end
  local dev = {}
  if c.development then
    dev[#dev + 1] = ("Development centre %s: %d patients after the encoding's filter."):format(
      tostring(c.development.centre), c.development.n or 0)
    for _, k in ipairs(c.development.counts or {}) do
      if kind == "survival" then
        dev[#dev + 1] = ("%s: %d rows, %d with a missing follow-up time or event (left out), %d with a follow-up " ..
          "time of 0 (left out), %d used, %d with the event."):format(tostring(k.centre), k.n or 0, k.missing or 0,
          k.time_zero or 0, k.used or 0, math.floor(k.events or 0))
      elseif kind == "multiclass" then
        dev[#dev + 1] = ("%s: %d rows, %d with a missing outcome (left out), %d of other levels, %d used: %s.")
          :format(tostring(k.centre), k.n or 0, k.missing or 0, k.other or 0, k.used or 0,
            count_words(k, class_labels(b)))
      else
        dev[#dev + 1] = ("%s: %d rows, %d with a missing outcome (left out), %d of other levels, %d used, %d positive.")
          :format(tostring(k.centre), k.n or 0, k.missing or 0, k.other or 0, k.used or 0, k.positive or 0)
      end
    end
  end
  dev[#dev + 1] = ("Model: %s, %s trees; the features were chosen from %s encoded features.")
    :format(kind == "survival" and "random survival forest" or "random forest",
      tostring(c.trees or (b.kind == "forest" and b.model.ntrees and b.model:ntrees()) or "?"),
      tostring(c.n_features_all or #b.features))
  local pv = b.provenance or {}
  dev[#dev + 1] = ("Provenance: sylva %s, seed %s, %s; development encoding %s (sha256 %s).")
    :format(tostring(pv.sylva_version), tostring(pv.seed), tostring(pv.date), tostring(b.encoding.path),
      tostring(b.encoding.sha256 or pv.encoding_sha256))
  for f, h in pairs(pv.data_sha256 or {}) do dev[#dev + 1] = ("Data %s: sha256 %s."):format(f, h) end
  p.data = dev
  local sections = {}
  p.sections = sections
  if kind == "survival" then
    local unit = c.unit or task.unit or "time units"
    local perf = {{"set", "n", "events", "Harrell's C (95% CI)", "Uno's C (95% CI)"}}
    for _, s in ipairs(c.sets or {}) do
      perf[#perf + 1] = {tostring(s.set), count_text(s.n), count_text(s.events), ci(s.harrell_c, s.harrell_lo, s.harrell_hi),
        ci(s.uno_c, s.uno_lo, s.uno_hi)}
    end
    sections[#sections + 1] = {heading = "Performance", rows = perf, note = "Concordance of the risk with the " ..
      "outcome: Harrell's C and Uno's C (censoring weights 1/G(t)^2) with 95% CIs from the infinitesimal-jackknife " ..
      "SE, as the study reports them; training out-of-bag."}
    if c.time_dependent and #c.time_dependent > 0 then
      local td = {{"set", ("time (%s)"):format(unit), "AUC(t) (95% CI)", "Brier(t) (95% CI)", "integrated Brier"}}
      for _, r in ipairs(c.time_dependent) do
        td[#td + 1] = {tostring(r.set), num(r.time, "%g"), ci(r.auc, r.auc_lo, r.auc_hi),
          r.brier and ci(r.brier, r.brier_lo, r.brier_hi) or "—", num(r.ibs)}
      end
      sections[#sections + 1] = {heading = "Time-dependent performance", rows = td, note = "Uno's IPCW " ..
        "cumulative/dynamic AUC(t) of the risk and the IPCW Brier score of the forest's S(t) at the horizons, " ..
        "95% CIs; no Brier score on training, which has no out-of-bag survival curves."}
    end
    if c.riskgroups and #c.riskgroups > 0 and c.cutpoint then
      local rg = {{"set", "n", b.groups[1], b.groups[2], "events", "log-rank p"}}
      for _, r in ipairs(c.riskgroups) do
        rg[#rg + 1] = {tostring(r.set), count_text(r.n), count_text(r.n_high), count_text(r.n_low), count_text(r.events),
          num(r.logrank_p, "%.3g")}
      end
      sections[#sections + 1] = {heading = "Risk groups", rows = rg, note = ("\"%s\" = risk above %.6g, the " ..
        "cut-point of the training out-of-bag risk that maximises the log-rank statistic (%.3f, Lau's p = %.3g, " ..
        "%d candidate cuts), applied unchanged to every set."):format(b.groups[1], c.cutpoint.cut,
        c.cutpoint.statistic or 0 / 0, c.cutpoint.p or 0 / 0, c.cutpoint.ncuts or 0)}
    end
    local cal = {{"set", ("time (%s)"):format(unit), "observed risk", "expected risk", "O/E (95% CI)",
      "calibration slope (95% CI)"}}
    for _, r in ipairs(c.surv_calibration or {}) do
      cal[#cal + 1] = {tostring(r.set), num(r.time, "%g"), num(r.observed), num(r.expected), ci(r.oe, r.oe_lo, r.oe_hi),
        ci(r.slope, r.slope_lo, r.slope_hi)}
    end
    sections[#sections + 1] = {heading = "Calibration", rows = cal, note = "On the test sets, at the study's " ..
      "calibration horizon: observed (1 - Kaplan-Meier) and expected (mean predicted) risk of the event by then, " ..
      "O/E and calibration slope."}
  elseif kind == "multiclass" then
    local labels = class_labels(b)
    local head = {"set", "n"}
    for _, l in ipairs(labels) do head[#head + 1] = l end
    for _, h in ipairs({"multiclass AUC M (95% CI)", "accuracy", "Brier (multiclass)"}) do head[#head + 1] = h end
    local perf = {head}
    for _, s in ipairs(c.sets or {}) do
      local r = {tostring(s.name), tostring(s.n)}
      for j = 1, #labels do r[#r + 1] = tostring((s.counts or {})[j] or 0) end
      r[#r + 1] = s.auc and ci(s.auc, s.auc_lo, s.auc_hi) or "—"
      r[#r + 1] = num(s.accuracy)
      r[#r + 1] = num(s.brier)
      perf[#perf + 1] = r
    end
    sections[#sections + 1] = {heading = "Performance", rows = perf, note = "Patients of each class; Hand and " ..
      "Till's multiclass AUC M with a stratified bootstrap 95% CI, accuracy of the most probable class and the " ..
      "multiclass Brier score (0 to 2), as the study reports them; training out-of-bag."}
    if c.per_class and #c.per_class > 0 then
      local pc = {{"set", "class", "n", "sensitivity", "specificity", "PPV"}}
      for _, r in ipairs(c.per_class) do
        pc[#pc + 1] = {tostring(r.set), tostring(r.class), tostring(r.n), num(r.sensitivity), num(r.specificity),
          num(r.ppv)}
      end
      sections[#sections + 1] = {heading = "Per-class performance", rows = pc, note = "Sensitivity, " ..
        "specificity and PPV of the most probable class, each class against the rest."}
    end
    local cal = {{"set", "class", "n", "Brier"}}
    for _, r in ipairs(c.class_calibration or {}) do
      cal[#cal + 1] = {tostring(r.set), tostring(r.class), tostring(r.n), num(r.brier)}
    end
    sections[#sections + 1] = {heading = "Calibration", rows = cal, note = "On the test sets: the binary Brier " ..
      "score of each class's probability against its one-vs-rest outcome."}
  else
    local perf = {{"set", "n", "positive", "AUC (95% CI)", "sensitivity", "specificity", "accuracy"}}
    local calib = {{"set", "Brier", "mean predicted", "observed", "calibration intercept", "calibration slope",
      "calibration-in-the-large"}}
    for _, s in ipairs(c.sets or {}) do
      perf[#perf + 1] = {s.name, tostring(s.n), tostring(s.positives), ci(s.auc, s.auc_lo, s.auc_hi),
        ci(s.sensitivity, s.sens_lo, s.sens_hi, true), ci(s.specificity, s.spec_lo, s.spec_hi, true),
        ci(s.accuracy, s.acc_lo, s.acc_hi, true)}
      calib[#calib + 1] = {s.name, num(s.brier), num(s.mean_predicted), num(s.observed), num(s.cal_intercept),
        num(s.cal_slope), num(s.citl)}
    end
    sections[#sections + 1] = {heading = "Performance", rows = perf, note = ("Sensitivity, specificity and " ..
      "accuracy at the cut-off %s (Youden on training out-of-bag scores), exact 95%% CIs; AUC with DeLong's 95%% CI.")
      :format(cut_text)}
    sections[#sections + 1] = {heading = "Calibration", rows = calib, note = "Intercept and slope of the logistic " ..
      "recalibration (sv.calib.slope) are given where every score lies inside (0, 1); \"—\" where a forest scored " ..
      "a patient exactly 0 or 1."}
  end
  local limits = {
    "Training-set performance is out-of-bag; the internal test set is one split of the development centre, and its confidence intervals show how little a small test set pins down.",
    "Values outside the training range (listed per patient by `sylva score` in outside_training_range) are extrapolations of a forest, which is flat beyond the data it saw.",
    "Missing values are replaced by the training statistics stored in the bundle; a patient with many missing features gets a score close to the training average.",
    "A new centre must map its columns onto the development features with its own encoding (same units, same levels); `sylva score` refuses a different unit or an unknown level.",
  }
  if kind == "survival" then
    limits[#limits + 1] = "The risk is a relative ranking (ensemble mortality), not a probability: compare patients with it; for survival probabilities at a time use the forest's survival curves (b.model:survival(X, times))."
  elseif kind == "multiclass" then
    limits[#limits + 1] = "The class probabilities are not recalibrated for any centre: check each class's calibration on local data before using absolute probabilities."
  elseif not b.recalibration then
    limits[#limits + 1] = "The model is not recalibrated for any centre: check calibration on local data before using absolute probabilities."
  end
  for _, n in ipairs(c.notes or {}) do limits[#limits + 1] = n .. "." end
  p.limits = limits
  local tripod, over = {}, TRIPOD_KIND[kind] or {}
  for i, it in ipairs(M.TRIPOD_AI) do tripod[i] = {it[1], over[it[1]] or it[2]} end
  p.tripod = tripod
  return p
end

--- sv.bundle.card_markdown(b) -> the model card as markdown
function M.card_markdown(b)
  local p = card_parts(b)
  local out = {"# " .. p.title, "", "## Intended use", "", p.intended, "", "## Development data", ""}
  for _, l in ipairs(p.data) do out[#out + 1] = "- " .. l end
  local function mtable(rows)
    out[#out + 1] = ""
    out[#out + 1] = "| " .. table.concat(rows[1], " | ") .. " |"
    local sep = {}
    for j = 1, #rows[1] do sep[j] = "---" end
    out[#out + 1] = "| " .. table.concat(sep, " | ") .. " |"
    for r = 2, #rows do out[#out + 1] = "| " .. table.concat(rows[r], " | ") .. " |" end
    out[#out + 1] = ""
  end
  out[#out + 1] = ""
  for _, s in ipairs(p.sections) do
    out[#out + 1] = "## " .. s.heading
    mtable(s.rows)
    out[#out + 1] = s.note
    out[#out + 1] = ""
  end
  out[#out + 1] = "## Known limits"
  out[#out + 1] = ""
  for _, l in ipairs(p.limits) do out[#out + 1] = "- " .. l end
  out[#out + 1] = ""
  out[#out + 1] = "## TRIPOD+AI items covered"
  out[#out + 1] = ""
  for _, it in ipairs(p.tripod) do out[#out + 1] = ("- Item %s: %s"):format(it[1], it[2]) end
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

--- sv.bundle.card_html(b) -> the model card as a self-contained HTML page
function M.card_html(b)
  local p = card_parts(b)
  local out = {"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" .. html_escape(p.title) .. "</title>",
    "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}" ..
    "td,th{border:1px solid #bbb;padding:.2em .5em}</style></head><body>",
    "<h1>" .. html_escape(p.title) .. "</h1>", "<h2>Intended use</h2><p>" .. html_escape(p.intended) .. "</p>",
    "<h2>Development data</h2><ul>"}
  for _, l in ipairs(p.data) do out[#out + 1] = "<li>" .. html_escape(l) .. "</li>" end
  out[#out + 1] = "</ul>"
  local function htable(rows)
    out[#out + 1] = "<table><tr><th>" .. table.concat((function()
      local t = {}
      for j, h in ipairs(rows[1]) do t[j] = html_escape(h) end
      return t end)(), "</th><th>") .. "</th></tr>"
    for r = 2, #rows do
      local t = {}
      for j, v in ipairs(rows[r]) do t[j] = html_escape(v) end
      out[#out + 1] = "<tr><td>" .. table.concat(t, "</td><td>") .. "</td></tr>"
    end
    out[#out + 1] = "</table>"
  end
  for _, s in ipairs(p.sections) do
    out[#out + 1] = "<h2>" .. html_escape(s.heading) .. "</h2>"
    htable(s.rows)
    out[#out + 1] = "<p>" .. html_escape(s.note) .. "</p>"
  end
  out[#out + 1] = "<h2>Known limits</h2><ul>"
  for _, l in ipairs(p.limits) do out[#out + 1] = "<li>" .. html_escape(l) .. "</li>" end
  out[#out + 1] = "</ul><h2>TRIPOD+AI items covered</h2><ul>"
  for _, it in ipairs(p.tripod) do out[#out + 1] = ("<li>Item %s: %s</li>"):format(it[1], html_escape(it[2])) end
  out[#out + 1] = "</ul></body></html>\n"
  return table.concat(out, "\n")
end

--- sv.bundle.write(path, b): saves the bundle and its model card (path without .svm + .card.md/.card.html)
function M.write(path, b)
  if getmetatable(b) ~= Bundle then b = M.new(b) end
  M.save(path, b)
  local stem = path:gsub("%.svm$", "")
  sv.write_atomic(stem .. ".card.md", M.card_markdown(b))
  sv.write_atomic(stem .. ".card.html", M.card_html(b))
end

---------------------------------------------------------------------------
-- `sylva score`
---------------------------------------------------------------------------

local USAGE = "usage (sv.bundle.cli): sylva score BUNDLE.svm DATA.csv --encoding ENC.lua [--out FILE] [--explain K] [--html DIR] [--id COLUMN] [--threads N]"

--- sv.bundle.cli(args) -> true on success (the `sylva score` command)
function M.cli(args)
  local pos, opts = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--encoding" or a == "--out" or a == "--explain" or a == "--html" or a == "--id" or a == "--threads" then
      local v = args[i + 1]
      if v == nil then error(("sylva score: %s needs a value\n%s"):format(a, USAGE), 0) end
      opts[a:sub(3)] = v
      i = i + 2
    elseif a == "-h" or a == "--help" then
      print(USAGE)
      return true
    elseif a:sub(1, 1) == "-" then
      error(("sylva score: unknown option '%s'\n%s"):format(a, USAGE), 0)
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  if #pos ~= 2 then error(USAGE, 0) end
  if not opts.encoding then error("sylva score: --encoding ENC.lua is required (how DATA.csv writes its columns)\n" .. USAGE, 0) end
  local k = 0
  if opts.explain then
    k = math.tointeger(tonumber(opts.explain))
    if not k or k < 1 then error(("sylva score: --explain must be a whole number >= 1, got '%s'"):format(opts.explain), 0) end
  end
  local threads
  if opts.threads then
    threads = math.tointeger(tonumber(opts.threads))
    if not threads or threads < 0 then error(("sylva score: --threads must be a whole number >= 0, got '%s'"):format(opts.threads), 0) end
  end
  local ok, err = pcall(function()
    local b = M.load(pos[1])
    local res = b:score(pos[2], {encoding = opts.encoding, id = opts.id, threads = threads,
      explain = (k > 0 or opts.html) and true or nil})
    local text = M.csv(b, res, k)
    if opts.out then sv.write_atomic(opts.out, text) else io.write(text) end
    if opts.html then M.html(b, res, opts.html) end
    local n_out = 0
    for j = 1, res.n do if res.outside[j] then n_out = n_out + 1 end end
    if n_out > 0 then
      io.stderr:write(("sylva score: %d of %d patients have features outside the training range " ..
        "(column outside_training_range): their scores are extrapolations\n"):format(n_out, res.n))
    end
    -- a model feature most patients lack: their scores rest on the
    -- training value imputed for it (all alike when all lack it)
    for _, m in ipairs(res.missing) do
      local note = sv.encode._missing_note(m, res.n)
      if note then io.stderr:write("sylva score: ", note, "\n") end
    end
    if opts.out then io.stderr:write(("sylva score: %d patients scored -> %s\n"):format(res.n, opts.out)) end
  end)
  if not ok then
    io.stderr:write("sylva score: ", tostring(err), "\n")
    return false
  end
  return true
end

return M
