-- study.lua - sv.study: a study spec (a Lua file returning a table) run as
-- the paper's pipeline, and each step of that pipeline as a library
-- function an analyst can call from a custom script. docs/study.md.
--
-- A study is a list of tasks; each task runs the steps of its kind
-- (M.kinds[kind], a list of {name =, run =}) on a task context `ctx`.
-- Every task runs under pcall: a step that finds the task cannot be done
-- (no patients, one class, too few of a class) calls M.skip(reason) and the
-- task is "skipped"; any other error makes it "failed" with the message.
-- The other tasks go on, and the report is always written, with a section
-- for every task and the status of each at the top.
--
-- The library holds no sentence about one cohort: names, labels, units and
-- extra methods text come from the spec and the encodings.

local sv = require "sylva"
local M = {}

local isnan = function(x) return x ~= x end

---------------------------------------------------------------------------
-- The spec
---------------------------------------------------------------------------

--- the defaults of every optional spec field (docs/study.md, "Spec")
M.defaults = {
  seed = 1,
  split = {train = 0.7},
  model = {trees = 500, grid = {mtry = {2, 4, 6}, min_leaf = {5, 10, 20}}, folds = 5},
  selection = {repeats = 3, max_features = 12, rule = "tol", tol = 0.005},
  quick = {trees = 100},               -- with --quick: these trees, each grid list cut to 2 values
  min_per_class = 10,                  -- fewer patients of a class in the development centre: skipped
  dependence = 3,                      -- SHAP dependence plots of the first k selected features
}

local SPEC_FIELDS = {title = 1, subtitle = 1, seed = 1, id = 1, development = 1, external = 1, tasks = 1,
  survival = 1, split = 1, model = 1, selection = 1, quick = 1, min_per_class = 1, dependence = 1,
  table1 = 1, methods = 1, out = 1, kind = 1, validation = 1, figures = 1, xlsx = 1, centres = 1,
  baseline = 1, subgroups = 1}  -- (issue 16: the logistic-regression baseline)
local CENTRE_FIELDS = {name = 1, data = 1, encoding = 1, id = 1}
local TASK_FIELDS = {id = 1, title = 1, label = 1, outcome = 1, positive = 1, negative = 1, kind = 1, classes = 1,
  time = 1, event = 1, horizons = 1, horizon = 1}        -- (the last four: kind = "survival")
local SURV_FIELDS = {time = 1, event = 1, unit = 1, label = 1, abbrev = 1, breaks = 1, xmax = 1, sets = 1, xlab = 1,
  population = 1, groups = 1}

local function spec_error(path, fmt, ...)
  error(("study: %s: " .. fmt):format(path or "spec", ...), 0)
end

local function check_fields(path, what, t, allowed)
  if type(t) ~= "table" then spec_error(path, "%s must be a table", what) end
  for k in pairs(t) do
    if not allowed[k] then spec_error(path, "%s: unknown field '%s'", what, tostring(k)) end
  end
end

-- A spec file may compute (string, math, table) but not read or write:
-- the same sandbox as an encoding file (sylva.encode).
local function sandbox() return require("sylva.encode")._sandbox() end

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end

local function resolve(base, p)
  if type(p) ~= "string" then return p end
  if p:sub(1, 1) == "/" or base == nil then return p end
  return base .. "/" .. p
end

local function merge(defaults, t)
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

local function as_list(v)
  if v == nil then return nil end
  if type(v) ~= "table" then return {v} end
  return v
end

-- A survival task: time and event (its own or spec.survival's) name
-- encoded outcomes; horizons ascending positive numbers; horizon (the
-- calibration horizon, default the last) one of them.
local function check_survival_task(path, what, t, sp)
  local time, event = t.time or (type(sp) == "table" and sp.time), t.event or (type(sp) == "table" and sp.event)
  if type(time) ~= "string" or type(event) ~= "string" then
    spec_error(path, "%s: a survival task needs time = and event = (or survival = {time =, event =}) naming encoded outcomes", what)
  end
  local h = t.horizons
  local ok = type(h) == "table" and #h >= 1
  for j = 1, ok and #h or 0 do
    if type(h[j]) ~= "number" or h[j] ~= h[j] or h[j] <= 0 or h[j] == math.huge or (j > 1 and h[j] <= h[j - 1]) then ok = false end
  end
  if not ok then spec_error(path, "%s.horizons must list positive times in ascending order, e.g. {12, 36, 60}", what) end
  if t.horizon ~= nil then
    local found = false
    for _, x in ipairs(h) do if x == t.horizon then found = true end end
    if not found then spec_error(path, "%s.horizon (calibration) must be one of the horizons", what) end
  end
end

--- sv.study.spec(spec_or_path) -> spec, checked, with defaults and paths resolved
function M.spec(s)
  local path
  if type(s) == "string" then
    path = s
    local chunk, err = loadfile(path, "t", sandbox())
    if not chunk then
      local f = io.open(path, "r")
      if not f then error(("study: %s: cannot open the spec file"):format(path), 0) end
      f:close()
      error(("study: %s: syntax error: %s"):format(path, err), 0)
    end
    local ok, t = pcall(chunk)
    if not ok then error(("study: %s: error while running the spec: %s"):format(path, tostring(t)), 0) end
    if type(t) ~= "table" then spec_error(path, "the file must return a table, got %s", type(t)) end
    s = t
  elseif type(s) ~= "table" then
    error("bad argument #1 to 'study.spec' (spec table or path expected)", 2)
  end
  if s._checked then return s end
  path = path or s.path
  local base = path and dirname(path) or s.base
  check_fields(path, "spec", s, merge(SPEC_FIELDS, {path = 1, base = 1}))
  local spec = {path = path, base = base, _checked = true}
  for k, v in pairs(s) do spec[k] = v end
  spec.title = s.title or "Study"
  spec.seed = s.seed or M.defaults.seed
  if math.type(spec.seed) ~= "integer" then spec_error(path, "seed must be an integer") end
  spec.split = merge(M.defaults.split, s.split)
  local tr = spec.split.train
  if type(tr) ~= "number" or tr <= 0 or tr >= 1 then spec_error(path, "split.train must be in (0, 1)") end
  spec.model = merge(M.defaults.model, s.model)
  local cvt = spec.model.cv_trees
  if cvt ~= nil and (math.type(cvt) ~= "integer" or cvt < 1) then
    spec_error(path, "model.cv_trees must be an integer >= 1 (got %s)", tostring(cvt))
  end
  spec.selection = s.selection ~= false and merge(M.defaults.selection, s.selection) or false
  spec.quick = merge(M.defaults.quick, s.quick)
  spec.min_per_class = s.min_per_class or M.defaults.min_per_class
  spec.dependence = s.dependence or M.defaults.dependence
  spec.table1 = s.table1 or {}
  spec.kind = s.kind or "binary"
  if s.baseline ~= nil and type(s.baseline) ~= "boolean" then
    spec_error(path, "baseline must be true or false (got %s)", tostring(s.baseline))
  end
  if s.subgroups ~= nil then
    if type(s.subgroups) ~= "table" then spec_error(path, "subgroups must be a list of encoded feature names") end
    for i, c in ipairs(s.subgroups) do
      if type(c) ~= "string" then spec_error(path, "subgroups[%d] must be a feature name", i) end
    end
  end
  if s.validation ~= nil then
    local v = s.validation
    check_fields(path, "validation", v, {method = 1, refit = 1, test = 1, B = 1, estimator = 1})
    if v.method ~= "iecv" and v.method ~= "bootstrap" then
      spec_error(path, "validation.method must be \"iecv\" or \"bootstrap\" (got %s)", tostring(v.method))
    end
    if v.method == "bootstrap" then
      if v.B ~= nil and (math.type(v.B) ~= "integer" or v.B < 1) then
        spec_error(path, "validation.B must be an integer >= 1 (got %s)", tostring(v.B))
      end
      if v.estimator ~= nil and v.estimator ~= "optimism" and v.estimator ~= ".632" and v.estimator ~= ".632+" then
        spec_error(path, "validation.estimator must be \"optimism\", \".632\" or \".632+\" (got %s)", tostring(v.estimator))
      end
    end
    if v.refit ~= nil and v.refit ~= "pipeline" and v.refit ~= "model" then
      spec_error(path, "validation.refit must be \"pipeline\" or \"model\" (got %s)", tostring(v.refit))
    end
    if v.test ~= nil and v.test ~= "z" and v.test ~= "knha" then
      spec_error(path, "validation.test must be \"z\" or \"knha\" (got %s)", tostring(v.test))
    end
  end

  local function centre(c, what)
    check_fields(path, what, c, CENTRE_FIELDS)
    for _, k in ipairs({"data", "encoding"}) do
      if type(c[k]) ~= "string" then spec_error(path, "%s.%s must be a path", what, k) end
    end
    return {name = c.name, data = resolve(base, c.data), encoding = resolve(base, c.encoding), id = c.id or s.id}
  end
  if s.centres ~= nil then
    -- any number of centres: the first is the development centre (split,
    -- tuned, selected), the others are external test sets; with
    -- validation = {method = "iecv"} every one is also left out in turn
    if s.development ~= nil or s.external ~= nil then
      spec_error(path, "give either centres = {...} or development/external, not both")
    end
    if type(s.centres) ~= "table" or #s.centres < 1 then
      spec_error(path, "centres must be a list of {name =, data =, encoding =}")
    end
    spec.development = centre(s.centres[1], "centres[1]")
    spec.external = {}
    for i = 2, #s.centres do spec.external[i - 1] = centre(s.centres[i], ("centres[%d]"):format(i)) end
  else
    if s.development == nil then spec_error(path, "development = {name =, data =, encoding =} is required") end
    spec.development = centre(s.development, "development")
    spec.external = {}
    for i, c in ipairs(s.external or {}) do spec.external[i] = centre(c, ("external[%d]"):format(i)) end
  end
  spec.centres = nil

  if type(s.tasks) ~= "table" or #s.tasks == 0 then spec_error(path, "tasks must list at least one task") end
  spec.tasks = {}
  local seen = {}
  for i, t in ipairs(s.tasks) do
    local what = ("tasks[%d]"):format(i)
    check_fields(path, what, t, TASK_FIELDS)
    if type(t.id) ~= "string" or not t.id:match("^[%w_%-]+$") then
      spec_error(path, "%s.id must be a name of letters, digits, '_' or '-'", what)
    end
    if seen[t.id] then spec_error(path, "%s: task id '%s' is used twice", what, t.id) end
    seen[t.id] = true
    local kind = t.kind or spec.kind
    if kind == "survival" then
      check_survival_task(path, what, t, s.survival)
    elseif type(t.outcome) ~= "string" then
      spec_error(path, "%s.outcome must name an encoded outcome", what)
    end
    local task = {}
    for k, v in pairs(t) do task[k] = v end
    task.title = t.title or t.id
    task.label = t.label or task.title
    task.kind = t.kind or spec.kind
    task.positive, task.negative = as_list(t.positive), as_list(t.negative)
    if t.classes ~= nil then
      local ok = type(t.classes) == "table" and #t.classes >= 3
      for _, c in ipairs(ok and t.classes or {}) do if type(c) ~= "string" then ok = false end end
      if not ok then spec_error(path, "%s.classes must list at least 3 level names (two classes: a binary task)", what) end
      if task.kind ~= "multiclass" then spec_error(path, "%s.classes is for kind = \"multiclass\" tasks", what) end
    end
    spec.tasks[i] = task
  end
  if s.survival ~= nil then
    check_fields(path, "survival", s.survival, SURV_FIELDS)
    if type(s.survival.time) ~= "string" or type(s.survival.event) ~= "string" then
      spec_error(path, "survival.time and survival.event must name encoded outcomes")
    end
    local pop = s.survival.population
    if pop ~= nil and pop ~= "task" and pop ~= "all" then
      spec_error(path, "survival.population must be \"task\" or \"all\", got %s", tostring(pop))
    end
  end
  return spec
end

---------------------------------------------------------------------------
-- Centres
---------------------------------------------------------------------------

--- sv.study.load_centre(c) -> centre {name =, d =, enc =, ids =, data =, encoding =}
-- c = {name =, data = CSV path, encoding = encoding path, id = raw id column}
function M.load_centre(c)
  if type(c) ~= "table" or type(c.data) ~= "string" or type(c.encoding) ~= "string" then
    error("bad argument #1 to 'study.load_centre' ({name =, data = path, encoding = path [, id =]} expected)", 2)
  end
  local enc = sv.encode.load(c.encoding)
  -- errors name the centre, the file and line, the patient and the column
  local d = sv.encode.apply(enc, sv.encode.read(c.data), {id = c.id, file = c.data})
  -- ids are indexed by the row in the file, as d.rows (d.ids is by
  -- position: the two differ once a keep filter has dropped rows)
  local ids = {}
  for i = 1, d.n do ids[d.rows[i]] = d.ids and d.ids[i] or tostring(d.rows[i]) end
  return {name = c.name or enc.centre or c.data, label = enc.centre or c.name, d = d, enc = enc, ids = ids,
          data = c.data, encoding = c.encoding, filtered = d.filter and d.filter.dropped or 0}
end

--- sv.study.load_centres(spec) -> dev, externals
-- Every external centre must give the development centre's features, in
-- the same order (the models take them by position).
-- With opts.failed = "report", an external centre that cannot be read or
-- encoded is left out and listed in a third result, {{name =, data =,
-- encoding =, error =}, ...} (the runner reports it as failed and goes on);
-- otherwise its error is raised. The development centre always stops the
-- study, with an error naming it.
function M.load_centres(spec, opts)
  spec = M.spec(spec)
  local tolerate = opts and opts.failed == "report"
  local okd, dev = pcall(M.load_centre, spec.development)
  if not okd then
    local name = spec.development.name or spec.development.data
    error(("study: the development centre '%s' cannot be loaded: %s"):format(name, tostring(dev)), 0)
  end
  local ext, failed = {}, {}
  for _, c in ipairs(spec.external) do
    local oke, e = pcall(M.load_centre, c)
    if not oke then
      if not tolerate then error(e, 0) end
      failed[#failed + 1] = {name = c.name or c.data, data = c.data, encoding = c.encoding, error = tostring(e)}
      goto continue
    end
    if table.concat(e.d.names, ",") ~= table.concat(dev.d.names, ",") then
      error(("study: centre '%s': %s must define the features of %s, in the same order:\n  %s\ngot\n  %s")
        :format(e.name, c.encoding, spec.development.encoding, table.concat(dev.d.names, ", "),
                table.concat(e.d.names, ", ")), 0)
    end
    ext[#ext + 1] = e
    ::continue::
  end
  return dev, ext, failed
end

---------------------------------------------------------------------------
-- Skipping
---------------------------------------------------------------------------

-- A skip is an error whose message starts with this marker; the runner
-- tells it from a failure by the marker.
local SKIP = "study.skip: "

--- sv.study.skip(reason): stop the current task as "skipped" (inside a step)
function M.skip(reason)
  if type(reason) ~= "string" then error("bad argument #1 to 'study.skip' (reason string expected)", 2) end
  error(SKIP .. reason, 0)
end

local function skipped_reason(err)
  if type(err) == "string" and err:sub(1, #SKIP) == SKIP then return err:sub(#SKIP + 1) end
  return nil
end

-- Every step takes a task context: a clear error when it is not one.
local function check_ctx(ctx, fname)
  if type(ctx) ~= "table" or type(ctx.spec) ~= "table" or type(ctx.task) ~= "table" or type(ctx.report) ~= "table"
     or type(ctx.dev) ~= "table" then
    error(("bad argument #1 to 'study.%s' (a task context {spec =, task =, report =, dev =, ...} expected; docs/study.md)")
      :format(fname), 3)
  end
end

local function need(ctx, field, step, fname)
  if ctx[field] == nil then
    error(("study.%s: ctx.%s is not set: run sv.study.%s first"):format(fname, field, step), 3)
  end
end

local function count_classes(y)
  local pos, neg = 0, 0
  for i = 1, #y do
    if y[i] == 1 then pos = pos + 1 elseif y[i] == 0 then neg = neg + 1 end
  end
  return pos, neg
end

---------------------------------------------------------------------------
-- Labels of one task
---------------------------------------------------------------------------

-- The outcome as level names: a category outcome's names, a binary
-- outcome's "yes"/"no"; nil where missing.
local function outcome_levels(d, name)
  local c = d.enc.outcomes[name]
  if not c then
    local have = {}
    for _, o in ipairs(d.enc.outcome_names) do have[#have + 1] = o end
    error(("outcome '%s' is not in %s's encoding (outcomes: %s)"):format(name, tostring(d.enc.centre),
      #have > 0 and table.concat(have, ", ") or "none"), 0)
  end
  local v, out = d.outcomes[name], {}
  if c.kind == "category" then
    for i = 1, d.n do out[i] = v[i] or nil end
    return out, c.level_names
  elseif c.kind == "binary" or (c.kind == "derived" and c.binary) then
    for i = 1, d.n do
      local x = v[i]
      if not isnan(x) then out[i] = x == 1 and "yes" or "no" end
    end
    return out, {"no", "yes"}
  end
  error(("outcome '%s' is %s; a binary task needs a binary or category outcome (or a derived one with binary = true)")
    :format(name, c.kind == "derived" and "a derived number" or c.kind), 0)
end

-- The rows of a task: each row's outcome level mapped through `code`
-- (level -> label); returns the rows, their labels, the counts (n,
-- missing outcome, other level, used) and the number of rows per level.
local function code_rows(n, vals, code)
  local rows, y, per = {}, {}, {}
  local counts = {n = n, missing = 0, other = 0}
  for i = 1, n do
    local v = vals[i]
    if v == nil then
      counts.missing = counts.missing + 1
    elseif code[v] ~= nil then
      rows[#rows + 1] = i
      y[#y + 1] = code[v]
      per[v] = (per[v] or 0) + 1
    else
      counts.other = counts.other + 1
    end
  end
  counts.used = #rows
  return rows, y, counts, per
end

--- sv.study.labels(d, task) -> rows, y, counts
-- The task's patients of one encoded centre: rows (indices into d) whose
-- outcome is one of task.positive or task.negative (default: every other
-- level), y (1 positive, 0 negative) and counts {n =, missing =, other =,
-- used =, positive =}: patients with a missing outcome are left out and
-- counted (R's na.action = na.omit), as are those of another level.
function M.labels(d, task)
  if type(d) ~= "table" or type(d.enc) ~= "table" or type(d.outcomes) ~= "table" then
    error("bad argument #1 to 'study.labels' (encoded data from sv.encode.apply expected)", 2)
  end
  if type(task) ~= "table" or type(task.outcome) ~= "string" then
    error("bad argument #2 to 'study.labels' (a task {outcome =, positive =, negative =} expected)", 2)
  end
  local vals, levels = outcome_levels(d, task.outcome)
  local known = {}
  for _, lv in ipairs(levels) do known[lv] = true end
  local pos, neg = {}, {}
  local positive = task.positive or (#levels == 2 and levels[2] == "yes" and {"yes"}) or nil
  if not positive then
    error(("task '%s': positive = {levels} is needed (levels of '%s': %s)"):format(task.id, task.outcome,
      table.concat(levels, ", ")), 0)
  end
  for _, lv in ipairs(positive) do pos[lv] = true end
  for _, lv in ipairs(task.negative or levels) do if not pos[lv] then neg[lv] = true end end
  for lv in pairs(pos) do
    if not known[lv] then
      error(("task '%s': positive level '%s' is not a level of '%s' (%s)"):format(task.id, lv, task.outcome,
        table.concat(levels, ", ")), 0)
    end
  end
  for lv in pairs(neg) do
    if not known[lv] then
      error(("task '%s': negative level '%s' is not a level of '%s' (%s)"):format(task.id, lv, task.outcome,
        table.concat(levels, ", ")), 0)
    end
  end
  local code = {}
  for lv in pairs(neg) do code[lv] = 0 end
  for lv in pairs(pos) do code[lv] = 1 end
  local rows, y, counts, per = code_rows(d.n, vals, code)
  counts.positive = 0
  for lv in pairs(pos) do counts.positive = counts.positive + (per[lv] or 0) end
  return rows, sv.vector(y), counts
end

---------------------------------------------------------------------------
-- Steps of a binary task. Each takes the task context ctx and adds to it;
-- docs/study.md lists what each reads and writes.
---------------------------------------------------------------------------

local function forest_opts(ctx, extra)
  local o = {trees = ctx.spec.model.trees, seed = ctx.spec.seed, threads = ctx.threads}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The forest options of the forests fitted inside a cross-validation (the
-- grid search's folds, the forward selection's folds): model.cv_trees
-- trees when the spec sets it (docs/study.md), else the model's.
local function cv_forest(ctx, base)
  local o = {}
  for k, v in pairs(base) do o[k] = v end
  o.trees = ctx.spec.model.cv_trees or ctx.spec.model.trees
  return o
end

-- The grid search's best options for the model itself (model.trees trees).
local function tuned_forest(ctx, tuned)
  local o = tuned.best_options
  o.trees = ctx.spec.model.trees
  return o
end

local function log(ctx, what)
  if ctx.log then ctx.log(ctx.task.id .. ": " .. what) end
end

--- sv.study.patients(ctx): the task's patients in every centre; counts; skips when there are none
function M.patients(ctx)
  check_ctx(ctx, "patients")
  local task = ctx.task
  local rows, y, counts = M.labels(ctx.dev.d, task)
  counts.centre, counts.filtered = ctx.dev.name, ctx.dev.filtered
  ctx.counts = {counts}
  ctx.dev_task = {d = sv.encode.subset(ctx.dev.d, rows), y = y, ids = ctx.dev.ids}
  ctx.ext_task = {}
  for _, e in ipairs(ctx.externals) do
    local r, ye, ce = M.labels(e.d, task)
    ce.centre, ce.filtered = e.name, e.filtered
    ctx.counts[#ctx.counts + 1] = ce
    ctx.ext_task[#ctx.ext_task + 1] = {centre = e, d = sv.encode.subset(e.d, r), y = ye}
  end
  ctx.report:table(ctx.counts, {name = task.id .. "_patients",
    columns = {"centre", "filtered", "n", "missing", "other", "used", "positive"},
    caption = ("Patients by centre: filtered = rows the encoding's keep filter left out; n = rows kept; " ..
               "missing = outcome '%s' missing (left out); other = a level outside this task; " ..
               "used = in this task; positive = of them, positive"):format(task.outcome)})
  local pos, neg = count_classes(y)
  local min = ctx.spec.min_per_class
  if #y == 0 then
    M.skip(("no patients of the development centre '%s' have outcome '%s' in this task's levels"):format(
      ctx.dev.name, task.outcome))
  elseif pos == 0 or neg == 0 then
    M.skip(("one class only in the development centre '%s' (%d positive, %d negative)"):format(ctx.dev.name, pos, neg))
  elseif pos < min or neg < min then
    M.skip(("too few patients of a class in the development centre '%s': %d positive, %d negative " ..
            "(at least %d of each needed; spec field min_per_class)"):format(ctx.dev.name, pos, neg, min))
  end
end

--- sv.study.split(ctx): stratified split of the development centre; imputation fitted on training
function M.split(ctx)
  check_ctx(ctx, "split")
  need(ctx, "dev_task", "patients", "split")
  local spec, dv = ctx.spec, ctx.dev_task
  log(ctx, "stratified split of the development centre, imputation from training")
  local train_idx, test_idx = sv.split.holdout(dv.y, {prop = spec.split.train, seed = spec.seed})
  local imputer = sv.encode.fit_imputer(sv.encode.subset(dv.d, train_idx))
  local function make_set(name, raw, y, ids)
    return {name = name, raw = raw, d = imputer:apply(raw), y = y, ids = ids}
  end
  local train = sv.encode.subset(dv.d, train_idx)
  local test = sv.encode.subset(dv.d, test_idx)
  ctx.sets = {
    make_set("training", train, sv.split.take(dv.y, train_idx), ctx.dev.ids),
    make_set("internal", test, sv.split.take(dv.y, test_idx), ctx.dev.ids),
  }
  for i, e in ipairs(ctx.ext_task) do
    if e.d.n > 0 then
      local name = i == 1 and "external" or "external " .. e.centre.name
      local set = make_set(name, e.d, e.y, e.centre.ids)
      local pos, neg = count_classes(e.y)
      set.two_classes = pos > 0 and neg > 0
      set.centre, set.external = e.centre.name, e.centre
      ctx.sets[#ctx.sets + 1] = set
    else
      ctx.notes[#ctx.notes + 1] = ("centre '%s' has no patients in this task: not a test set"):format(e.centre.name)
    end
  end
  for _, set in ipairs(ctx.sets) do
    if set.two_classes == nil then
      local pos, neg = count_classes(set.y)
      set.two_classes = pos > 0 and neg > 0
    end
  end
  ctx.train, ctx.imputer = ctx.sets[1], imputer
end

--- sv.study.table1(ctx): Table 1 of the sets before imputation (features, outcome, survival event)
function M.table1(ctx)
  check_ctx(ctx, "table1")
  need(ctx, "sets", "split", "table1")
  log(ctx, "Table 1")
  local enc = ctx.dev.enc
  local cols, by, vars = {}, {}, nil
  for _, set in ipairs(ctx.sets) do
    local c, v = sv.encode.columns(set.raw, enc)
    vars = vars or v
    for i = 1, set.raw.n do
      by[#by + 1] = set.name
      for name, col in pairs(c) do
        cols[name] = cols[name] or {}
        cols[name][#by] = col[i]
      end
    end
  end
  -- the features, then the task's outcome and the survival event (a
  -- survival task: its own event)
  local want = {}
  want[#want + 1] = ctx.task.outcome
  want[#want + 1] = ctx.task.event or (ctx.spec.survival and ctx.spec.survival.event) or nil
  local digits = ctx.spec.table1.digits or {}
  local shown, by_name = {}, {}
  for _, v in ipairs(vars) do
    v.label = v.label or v.name
    v.digits = digits[v.name]
    by_name[v.name] = v
    if enc.by_name[v.name] then shown[#shown + 1] = v end
  end
  for _, name in ipairs(want) do
    if by_name[name] and not enc.by_name[name] then shown[#shown + 1] = by_name[name] end
  end
  local order = {}
  for k, set in ipairs(ctx.sets) do order[k] = set.name end
  ctx.report:table(sv.table1(cols, {by = by, groups = order, vars = shown}), {name = ctx.task.id .. "_table1",
    caption = "Baseline characteristics by set (before imputation)"})
end

--- sv.study.tune(ctx): grid search of the forest's options by k-fold CV AUC on training
function M.tune(ctx)
  check_ctx(ctx, "tune")
  need(ctx, "train", "split", "tune")
  local spec, train = ctx.spec, ctx.train
  local n_grid = 1
  for _, v in pairs(spec.model.grid) do n_grid = n_grid * #v end
  log(ctx, ("grid search, %d settings x %d-fold CV"):format(n_grid, spec.model.folds))
  local tuned = sv.tune.grid(train.d.X, train.y, spec.model.grid,
    {k = spec.model.folds, seed = spec.seed, forest = cv_forest(ctx, forest_opts(ctx)), progress = false})
  ctx.report:table(tuned.table, {name = ctx.task.id .. "_grid",
    caption = ("Grid search: %d-fold CV AUC on training"):format(spec.model.folds)})
  ctx.tuned, ctx.forest = tuned, tuned_forest(ctx, tuned)
end

--- sv.study.select(ctx): SHAP ranking of the all-feature model, forward selection along it
function M.select(ctx)
  check_ctx(ctx, "select")
  need(ctx, "train", "split", "select")
  need(ctx, "forest", "tune", "select")
  local spec, train = ctx.spec, ctx.train
  if spec.selection == false then                -- every feature, no all-feature comparison
    ctx.selected = train.d.names
    return
  end
  log(ctx, "all-feature model and its SHAP ranking")
  local ranking, _, _, full = sv.select.shap_rank(train.d.X, train.y, {forest = ctx.forest, threads = ctx.threads})
  log(ctx, "forward selection along the SHAP ranking")
  local s = spec.selection
  -- inside a pipeline being validated (ctx.curve == false) nobody reads the
  -- curve past the rule's stopping point: with rule "tol" stopping there
  -- gives the same selection (sv.select.choose) for less work
  local sel = sv.select.forward(train.d.X, train.y, {ranking = ranking, forest = cv_forest(ctx, ctx.forest),
    k = spec.model.folds, seed = spec.seed, repeats = s.repeats, max_features = s.max_features, rule = s.rule,
    tol = s.tol, stop_early = ctx.curve == false, progress = false})
  ctx.report:table(sel.table, {name = ctx.task.id .. "_selection",
    caption = "Forward selection along the SHAP ranking: CV AUC as features are added"})
  ctx.ranking, ctx.full, ctx.selection, ctx.selected = ranking, full, sel, sel.selected
end

-- A test set most of whose patients lack a feature of the model is scored
-- on the training set's imputed value for it (all alike when every value is
-- missing: the new user's non-trial centre without hepatomegaly got an AUC
-- of exactly 0.5 with no word why); say so in the log and the report.
local function note_missing_features(ctx, names)
  for _, set in ipairs(ctx.sets or {}) do
    if set ~= ctx.train and set.raw then
      for _, m in ipairs(sv.encode._missing_counts(set.raw, names)) do
        local note = sv.encode._missing_note(m, set.raw.n)
        if note then
          local msg = ("set '%s': %s"):format(set.name, note)
          log(ctx, msg)
          ctx.notes[#ctx.notes + 1] = msg
        end
      end
    end
  end
end

--- sv.study.final(ctx): the final forest on the selected features; scores of every set (training out-of-bag)
function M.final(ctx)
  check_ctx(ctx, "final")
  need(ctx, "train", "split", "final")
  local selected = ctx.selected or ctx.train.d.names
  log(ctx, ("final model on %d feature%s: %s"):format(#selected, #selected == 1 and "" or "s",
    table.concat(selected, ", ")))
  local o = forest_opts(ctx, ctx.forest)
  if math.type(o.mtry) == "integer" and o.mtry > #selected then o.mtry = #selected end
  local model = sv.forest.train(ctx.train.d.X:cols(selected), ctx.train.y, o)
  for _, set in ipairs(ctx.sets) do
    if set == ctx.train then
      set.score = model:oob_predict()
      set.score_full = ctx.full and ctx.full:oob_predict()
    else
      set.score = model:predict(set.d.X:cols(selected))
      set.score_full = ctx.full and ctx.full:predict(set.d.X)
    end
  end
  ctx.model, ctx.selected = model, selected
  note_missing_features(ctx, selected)
end

--- sv.study.baseline(ctx): logistic regression (sv.glm.logistic) on the
--- selected features of the training set beside the forest: coefficients,
--- and on each test set DeLong's test of the two AUCs, Brier score,
--- calibration slope and calibration-in-the-large; spec baseline = false
--- leaves it out
function M.baseline(ctx)
  check_ctx(ctx, "baseline")
  if ctx.spec.baseline == false then return end
  need(ctx, "model", "final", "baseline")
  local selected, train, id = ctx.selected, ctx.train, ctx.task.id
  log(ctx, "logistic-regression baseline on the selected features")
  local ok, m = pcall(sv.glm.logistic, train.d.X:cols(selected), train.y)
  if not ok then
    ctx.notes[#ctx.notes + 1] = ("no logistic-regression baseline: %s"):format((tostring(m):gsub("^.-glm%.logistic: ", "")))
    return
  end
  local coef = {}
  for j, name in ipairs(m.names) do
    coef[j] = {term = name, coef = m.coef[j], se = m.se[j], z = m.z[j], p = m.p[j],
               odds_ratio = j == 1 and 0 / 0 or math.exp(m.coef[j])}
  end
  ctx.report:table(coef, {name = id .. "_logistic", columns = {"term", "coef", "se", "z", "p", "odds_ratio"},
    caption = ("Logistic regression on the selected features (training set, n = %d): the simpler model " ..
               "beside the forest; AIC %.1f"):format(#train.y, m.aic)})
  local rows, models = {}, {}
  for k, set in ipairs(ctx.sets) do
    if k > 1 and set.two_classes then
      local p = m:predict(set.d.X:cols(selected))
      local t = sv.roc.test(set.y, set.score, p)
      local mf, ml = sv.validate.metrics(set.y, set.score), sv.validate.metrics(set.y, p)
      rows[#rows + 1] = {set = set.name, n = #set.y, auc_forest = t.auc1, auc_logistic = t.auc2, z = t.z, p = t.p,
        brier_forest = mf.brier, brier_logistic = ml.brier, slope_forest = mf.slope, slope_logistic = ml.slope,
        citl_forest = mf.intercept, citl_logistic = ml.intercept}
      if #models == 0 then
        models = {{name = "random forest (" .. set.name .. ")", y = set.y, p = set.score},
                  {name = "logistic regression (" .. set.name .. ")", y = set.y, p = p}}
      end
    end
  end
  if #rows > 0 then
    ctx.report:table(rows, {name = id .. "_baseline",
      columns = {"set", "n", "auc_forest", "auc_logistic", "z", "p", "brier_forest", "brier_logistic",
                 "slope_forest", "slope_logistic", "citl_forest", "citl_logistic"},
      caption = "Forest vs logistic regression on the same features and patients: DeLong's test of the AUCs, " ..
                "Brier score, calibration slope and calibration-in-the-large (forest scores of exactly 0 or 1 " ..
                "are left out of slope and CITL)"})
    ctx.report:figure(sv.plot.calibration(models, {title = ctx.task.label .. ": forest vs logistic regression"}),
      {name = id .. "_baseline_calibration", caption = "Calibration of the forest and of the logistic regression on " ..
        "the first test set"})
  end
  ctx.baseline = {model = m, sets = rows}
end

--- sv.study.discrimination(ctx): AUC (DeLong CI), cut-off metrics (exact CIs), DeLong test vs all features
function M.discrimination(ctx)
  check_ctx(ctx, "discrimination")
  need(ctx, "sets", "split", "discrimination")
  need(ctx, "model", "final", "discrimination")
  local train = ctx.train
  local cut = sv.roc.youden(train.y, train.score).threshold
  local disc, delong = {}, {}
  for _, set in ipairs(ctx.sets) do
    local row = {set = set.name, n = #set.y}
    if set.two_classes then
      local a = sv.roc.auc(set.y, set.score, {ci = "delong"})
      local m = sv.metrics.at(set.y, set.score, cut)
      row.positives = m.tp + m.fn
      row.auc, row.auc_lo, row.auc_hi = a.auc, a.lo, a.hi
      row.sensitivity, row.sens_lo, row.sens_hi = m.sens, m.sens_lo, m.sens_hi
      row.specificity, row.spec_lo, row.spec_hi = m.spec, m.spec_lo, m.spec_hi
      row.accuracy, row.acc_lo, row.acc_hi = m.accuracy, m.accuracy_lo, m.accuracy_hi
      if set.score_full then
        local cmp = sv.roc.test(set.y, set.score_full, set.score)
        delong[#delong + 1] = {set = set.name, auc_all_features = cmp.auc1, auc_selected = cmp.auc2, z = cmp.z, p = cmp.p}
      end
    else
      row.positives = (count_classes(set.y))
      ctx.notes[#ctx.notes + 1] = ("set '%s' has one class only: no AUC or cut-off metrics"):format(set.name)
    end
    disc[#disc + 1] = row
  end
  ctx.report:table(disc, {name = ctx.task.id .. "_discrimination",
    columns = {"set", "n", "positives", "auc", "auc_lo", "auc_hi", "sensitivity", "sens_lo", "sens_hi",
               "specificity", "spec_lo", "spec_hi", "accuracy", "acc_lo", "acc_hi"},
    caption = ("Discrimination of the selected model; sensitivity, specificity and accuracy at the " ..
               "Youden cut-off %.3f fixed on training (out-of-bag)"):format(cut)})
  if #delong > 0 then
    ctx.report:table(delong, {name = ctx.task.id .. "_delong", columns = {"set", "auc_all_features", "auc_selected", "z", "p"},
      caption = "All-feature vs selected model, same patients: DeLong's test"})
  end
  ctx.cut, ctx.discrimination, ctx.delong = cut, disc, delong
end

--- sv.study.curves(ctx): ROC curves of every set; calibration and decision curves of the test sets
function M.curves(ctx)
  check_ctx(ctx, "curves")
  need(ctx, "sets", "split", "curves")
  need(ctx, "model", "final", "curves")
  local curves, models = {}, {}
  for k, set in ipairs(ctx.sets) do
    if set.two_classes then
      curves[#curves + 1] = {name = set == ctx.train and "training (out-of-bag)" or set.name, y = set.y, score = set.score}
      if k > 1 then models[#models + 1] = {name = set.name, y = set.y, p = set.score} end
    end
  end
  local id, label = ctx.task.id, ctx.task.label
  ctx.report:figure(sv.plot.roc(curves, {title = label .. ": ROC curves"}),
    {name = id .. "_roc", caption = "ROC curves of the selected model, AUC with 95% DeLong CI"})
  if #models > 0 then
    ctx.report:figure(sv.plot.calibration(models, {title = label .. ": calibration"}),
      {name = id .. "_calibration", caption = "Calibration on the test sets"})
    ctx.report:figure(sv.plot.decision_curve(models, {title = label .. ": decision curves"}),
      {name = id .. "_decision", caption = "Decision curves on the test sets"})
  end
end

--- sv.study.feature_labels(enc) -> {column = display label} from an encoding's labels
function M.feature_labels(enc)
  if type(enc) ~= "table" or type(enc.features) ~= "table" then
    error("bad argument #1 to 'study.feature_labels' (an encoding from sv.encode.load expected)", 2)
  end
  local labels = {}
  for _, f in ipairs(enc.features) do
    for _, col in ipairs(f.outputs) do
      labels[col] = f.label and (#f.outputs > 1 and f.label .. ": " .. col:sub(#f.name + 2) or f.label) or col
    end
  end
  return labels
end

--- sv.study.shap(ctx): SHAP beeswarm, bar, dependence and one test patient's waterfall
function M.shap(ctx)
  check_ctx(ctx, "shap")
  need(ctx, "model", "final", "shap")
  need(ctx, "selected", "final", "shap")
  log(ctx, "SHAP figures")
  local id, selected, train = ctx.task.id, ctx.selected, ctx.train
  local labels = M.feature_labels(ctx.dev.enc)
  local Xs = train.d.X:cols(selected)
  local phi = sv.shap.tree(ctx.model, Xs, {threads = ctx.threads})
  ctx.importance = {}
  for k, r in ipairs(sv.shap.importance(phi)) do
    ctx.importance[k] = {rank = k, feature = r.name, mean_abs_shap = r.value}
  end
  ctx.report:figure(sv.plot.shap_beeswarm(phi, Xs, {labels = labels}),
    {name = id .. "_shap_beeswarm", caption = "SHAP summary of the final model (training)"})
  ctx.report:figure(sv.plot.shap_bar(phi, {labels = labels}),
    {name = id .. "_shap_bar", caption = "Mean |SHAP| of the final model (training)"})
  for k = 1, math.min(ctx.spec.dependence, #selected) do
    ctx.report:figure(sv.plot.shap_dependence(phi, Xs, selected[k], {labels = labels}),
      {name = id .. "_dependence_" .. selected[k], caption = "SHAP dependence: " .. labels[selected[k]]})
  end
  local internal = ctx.sets[2]
  if internal and #internal.y > 0 then
    local who = 1                                  -- the internal-test patient with the highest score
    for i = 2, #internal.y do if internal.score[i] > internal.score[who] then who = i end end
    local Xi = internal.d.X:cols(selected):rows({who})
    local phi_i, base_i = sv.shap.tree(ctx.model, Xi, {threads = ctx.threads})
    ctx.report:figure(sv.plot.waterfall(phi_i:row(1), base_i, Xi:row(1), {names = selected, labels = labels}),
      {name = id .. "_waterfall", caption = ("Internal-test patient %s (highest score): each feature's push " ..
        "from the average prediction to this patient's"):format(internal.ids[internal.d.rows[who]])})
  end
end

local function capitalise(s) return (s:gsub("^%l", string.upper)) end

-- Does set name `name` match an entry of survival.sets? "external" matches
-- every external set ("external", "external Centre 3", ...).
local function set_selected(list, name)
  if not list then return true end
  for _, want in ipairs(list) do
    if name == want or (want == "external" and name:sub(1, 9) == "external ") then return true end
  end
  return false
end

-- Who the survival analysis covers, in words for captions.
local function survival_who(spec)
  local sp = spec.survival or {}
  local sets = sp.sets and table.concat(sp.sets, ", ") .. " set" .. (#sp.sets > 1 and "s" or "") or nil
  if sp.population == "all" then
    return ("every patient of the %s with follow-up, labelled for the task or not"):format(sets or "sets")
  end
  return sets and ("patients of the task in the " .. sets) or "all patients of the task"
end

--- sv.study.survival_sets(ctx) -> the sets of the survival analysis, {name =, d =, score =}
-- survival.sets chooses sets by name (default: all); survival.population =
-- "all" takes every patient of an external centre, labelled for the task
-- or not, imputed and scored like the test set ("task", the default: the
-- task's patients only; the development sets are always the task's).
function M.survival_sets(ctx)
  check_ctx(ctx, "survival_sets")
  need(ctx, "model", "final", "survival_sets")
  local sp = ctx.spec.survival or {}
  local out = {}
  for _, set in ipairs(ctx.sets) do
    if set_selected(sp.sets, set.name) then
      if sp.population == "all" and set.external then
        local d = ctx.imputer:apply(set.external.d)
        out[#out + 1] = {name = set.name, d = d, score = ctx.model:predict(d.X:cols(ctx.selected))}
      else
        out[#out + 1] = {name = set.name, d = set.d, score = set.score}
      end
    end
  end
  return out
end

--- sv.study.survival(ctx): Kaplan-Meier, log-rank and Cox of every patient of the task, high vs low score
function M.survival(ctx)
  check_ctx(ctx, "survival")
  need(ctx, "sets", "split", "survival")
  need(ctx, "cut", "discrimination", "survival")
  local sp = ctx.spec.survival
  if not sp then return end
  local abbrev = sp.abbrev or sp.label or "survival"
  log(ctx, abbrev .. " by model score")
  local hi_name, lo_name = (sp.groups or {})[1] or "High score", (sp.groups or {})[2] or "Low score"
  local time, event, group, high = {}, {}, {}, {}
  -- every set's patients in one data set (each row keeps its centre, file,
  -- line and patient), and who has a usable follow-up from one place:
  -- sv.encode.complete_cases counts the missing and refuses an impossible
  -- time or event naming the centre, file line and patient
  local ds, scores = {}, {}
  for _, set in ipairs(M.survival_sets(ctx)) do
    if not set.d.outcomes[sp.time] then
      error(("survival.time: outcome '%s' is not in the encoding of set '%s'"):format(sp.time, set.name), 0)
    end
    if not set.d.outcomes[sp.event] then
      error(("survival.event: outcome '%s' is not in the encoding of set '%s'"):format(sp.event, set.name), 0)
    end
    ds[#ds + 1] = set.d
    for i = 1, set.d.n do scores[#scores + 1] = set.score[i] end
  end
  local all = sv.encode.bind(ds)
  local ok, idx, info = pcall(sv.encode.complete_cases, all, {time = sp.time, event = sp.event})
  if not ok then error((tostring(idx):gsub("^[^\n]-%.lua:%d+: ", "")), 0) end
  local missing = info.dropped
  local t, e = all.outcomes[sp.time], all.outcomes[sp.event]
  for _, i in ipairs(idx) do
    time[#time + 1], event[#event + 1] = t[i], e[i]
    group[#group + 1] = scores[i] >= ctx.cut and hi_name or lo_name
    high[#high + 1] = {scores[i] >= ctx.cut and 1 or 0}
  end
  local n_events, n_high = 0, 0
  for i = 1, #event do n_events = n_events + event[i]; n_high = n_high + high[i][1] end
  local row = {n = #time, missing = missing}
  if missing > 0 then
    ctx.notes[#ctx.notes + 1] = ("%d patient%s with missing '%s' or '%s' left out of the survival analysis"):format(
      missing, missing == 1 and "" or "s", sp.time, sp.event)
  end
  if n_events == 0 or n_high == 0 or n_high == #time then
    local why = n_events == 0 and "no events" or "all patients in one score group"
    ctx.notes[#ctx.notes + 1] = ("survival analysis not done: %s"):format(why)
    row.skipped = why
    ctx.survival = row
    return
  end
  local lr = sv.surv.logrank(time, event, group)
  local cox = sv.surv.cox(time, event, sv.matrix(high, {"high_score"}))
  ctx.report:figure(sv.plot.km({time = time, event = event, group = group},
    {title = ctx.task.label .. " model score and " .. abbrev, xlab = sp.xlab or capitalise(sp.unit or "time"),
     ylab = sp.label or "Survival", breaks = sp.breaks, xmax = sp.xmax, pvalue = lr.p}),
    {name = ctx.task.id .. "_km", caption = ("Kaplan-Meier curves of %s by model score (%s)")
      :format(abbrev, survival_who(ctx.spec))})
  row = {n = cox.n, events = cox.events, logrank_chisq = lr.chisq, logrank_p = lr.p,
         hr = cox.hr[1], hr_lo = cox.hr_lo[1], hr_hi = cox.hr_hi[1], cox_p = cox.p[1]}
  ctx.report:table({row}, {name = ctx.task.id .. "_survival",
    columns = {"n", "events", "logrank_chisq", "logrank_p", "hr", "hr_lo", "hr_hi", "cox_p"},
    caption = ("%s, high vs low model score: log-rank test and Cox hazard ratio (95%% CI)"):format(abbrev)})
  row.missing = missing
  ctx.survival = row
end

--- sv.study.shift(ctx): case-mix shift between the centres (sv.centres.study_shift)
function M.shift(ctx)
  check_ctx(ctx, "shift")
  need(ctx, "dev_task", "patients", "shift")
  log(ctx, "case-mix shift between centres")
  sv.centres.study_shift(ctx)
end

--- sv.study.subgroups(ctx): performance by subgroup (sv.centres.study_subgroups)
function M.subgroups(ctx)
  check_ctx(ctx, "subgroups")
  if not ctx.spec.subgroups then return end
  need(ctx, "model", "final", "subgroups")
  sv.centres.study_subgroups(ctx)
end

--- sv.study.update(ctx): model updating for each external centre (sv.centres.study_update)
function M.update(ctx)
  check_ctx(ctx, "update")
  need(ctx, "model", "final", "update")
  sv.centres.study_update(ctx)
end

--- sv.study.iecv(ctx): with validation = {method = "iecv"}, internal-external
--- cross-validation over every centre (sv.centres.study_iecv)
function M.iecv(ctx)
  check_ctx(ctx, "iecv")
  if not ctx.spec.validation or ctx.spec.validation.method ~= "iecv" then return end
  need(ctx, "model", "final", "iecv")
  log(ctx, "internal-external cross-validation (leave one centre out)")
  sv.centres.study_iecv(ctx, M)
end

-- A report that keeps nothing: the pipeline's steps inside a bootstrap
-- replicate write no tables.
local quiet_report = setmetatable({}, {__index = function() return function() end end})

--- sv.study.pipeline(ctx) -> fit: the task's whole pipeline (imputation,
--- grid search, SHAP ranking and forward selection, final forest) as a
--- function fit(rows) of the development centre's task rows, for
--- sv.validate (each call refits everything on those rows only)
function M.pipeline(ctx)
  check_ctx(ctx, "pipeline")
  need(ctx, "dev_task", "patients", "pipeline")
  local dv = ctx.dev_task
  return function(rows)
    local raw = sv.encode.subset(dv.d, rows)
    local imputer = sv.encode.fit_imputer(raw)
    local train = {name = "training", d = imputer:apply(raw), y = sv.split.take(dv.y, rows)}
    local all = {name = "development", d = imputer:apply(dv.d), y = dv.y}
    local sub = {spec = ctx.spec, task = ctx.task, report = quiet_report, dev = ctx.dev, threads = ctx.threads,
                 notes = {}, train = train, sets = {train, all}, curve = false}
    M.tune(sub)
    M.select(sub)
    M.final(sub)
    local p = all.score
    return function(r)
      local out = {}
      for i, k in ipairs(r) do out[i] = p[k] end
      return out
    end, {features = sub.selected}
  end
end

local METRIC_LABELS = {auc = "AUC", brier = "Brier score", slope = "calibration slope",
                       intercept = "calibration-in-the-large", emax = "Emax (largest |p - lowess calibration|)",
                       e90 = "E90 (90th percentile of |p - lowess calibration|)",
                       ici = "ICI (mean |p - lowess calibration|)"}

--- sv.study.bootstrap(ctx): with validation = {method = "bootstrap", B =},
--- the whole pipeline validated on the development centre by the optimism
--- bootstrap (sv.validate.bootstrap): apparent / optimism / corrected
--- table, prediction instability and selection-frequency figures
function M.bootstrap(ctx)
  check_ctx(ctx, "bootstrap")
  local v = ctx.spec.validation
  if not v or v.method ~= "bootstrap" then return end
  need(ctx, "dev_task", "patients", "bootstrap")
  local B, est = v.B or 200, v.estimator or "optimism"
  log(ctx, ("bootstrap validation of the whole pipeline (%s, B = %d)"):format(est, B))
  -- a counter of finished replicates on stderr beside the log (minutes at B = 200)
  local res = sv.validate.bootstrap(ctx.dev_task.y, M.pipeline(ctx), {B = B, seed = ctx.spec.seed, method = est,
    threads = ctx.threads, progress = ctx.log ~= nil})
  local rows = {}
  for _, m in ipairs(sv.validate.METRICS) do
    rows[#rows + 1] = {metric = METRIC_LABELS[m], apparent = res.apparent[m], optimism = res.optimism[m],
                       corrected = res.corrected[m], replicates = res.n[m]}
  end
  local id, n = ctx.task.id, #ctx.dev_task.y
  local what = est == "optimism" and "Harrell's optimism bootstrap" or ("the %s bootstrap"):format(est)
  ctx.report:table(rows, {name = id .. "_validation",
    columns = {"metric", "apparent", "optimism", "corrected", "replicates"},
    caption = ("Internal validation of the whole pipeline (imputation, grid search, SHAP selection, final " ..
               "forest, all redone in every replicate) by %s on the development centre's %d patients: " ..
               "B = %d, %d failed; apparent = the pipeline on all %d patients"):format(what, n, B, res.failed, n)})
  if res.failed > 0 then
    ctx.notes[#ctx.notes + 1] = ("%d of %d bootstrap replicates failed (first: %s)"):format(res.failed, B,
      res.failures[1].error)
  end
  ctx.report:figure(sv.plot.instability(res, {title = ctx.task.label .. ": prediction instability"}),
    {name = id .. "_instability", caption = ("Prediction instability (Riley & Collins 2023): each patient's " ..
      "predictions by the %d bootstrap pipelines against the apparent pipeline's; mean absolute " ..
      "prediction error %.3f"):format(B - res.failed, res.instability.mape_mean)})
  if res.selection and ctx.spec.selection ~= false then
    ctx.report:figure(sv.plot.selection(res, {title = ctx.task.label .. ": feature selection frequency"}),
      {name = id .. "_selection_frequency", caption = "How often each feature was selected across the bootstrap replicates"})
  end
  ctx.validation = {method = "bootstrap", estimator = est, B = B, failed = res.failed,
                    apparent = res.apparent, optimism = res.optimism, corrected = res.corrected,
                    mape = res.instability.mape_mean, selection = res.selection}
end

--- the steps of each task kind, in order; a later kind adds its own list
M.kinds = {
  binary = {
    {name = "patients", run = M.patients},
    {name = "split", run = M.split},
    {name = "table1", run = M.table1},
    {name = "shift", run = M.shift},
    {name = "tune", run = M.tune},
    {name = "select", run = M.select},
    {name = "final", run = M.final},
    {name = "discrimination", run = M.discrimination},
    {name = "baseline", run = M.baseline},
    {name = "iecv", run = M.iecv},
    {name = "update", run = M.update},
    {name = "subgroups", run = M.subgroups},
    {name = "bootstrap", run = M.bootstrap},
    {name = "curves", run = M.curves},
    {name = "shap", run = M.shap},
    {name = "survival", run = M.survival},
  },
}

---------------------------------------------------------------------------
-- Steps of a multiclass task: one K-class forest (docs/study.md,
-- "Multiclass tasks"). y holds class codes 1..K in the order of
-- task.classes, so the forest's columns are the task's classes in order.
---------------------------------------------------------------------------

--- sv.study.class_labels(d, task) -> rows, y (codes 1..K), counts
-- The patients of one encoded centre whose outcome is one of task.classes
-- (default: every level of a category outcome); counts {n =, missing =,
-- other =, used =, [class] = count, ...}.
function M.class_labels(d, task)
  if type(d) ~= "table" or type(d.enc) ~= "table" or type(d.outcomes) ~= "table" then
    error("bad argument #1 to 'study.class_labels' (encoded data from sv.encode.apply expected)", 2)
  end
  if type(task) ~= "table" or type(task.outcome) ~= "string" then
    error("bad argument #2 to 'study.class_labels' (a task {outcome =, classes =} expected)", 2)
  end
  local vals, levels = outcome_levels(d, task.outcome)
  local classes = task.classes or levels
  local known, code = {}, {}
  for _, lv in ipairs(levels) do known[lv] = true end
  for k, lv in ipairs(classes) do
    if not known[lv] then
      error(("task '%s': class '%s' is not a level of '%s' (%s)"):format(tostring(task.id), tostring(lv),
        task.outcome, table.concat(levels, ", ")), 0)
    end
    code[lv] = k
  end
  local rows, y, counts, per = code_rows(d.n, vals, code)
  for _, lv in ipairs(classes) do counts[lv] = per[lv] or 0 end
  return rows, sv.vector(y), counts
end

local function class_counts(y, K)
  local c = {}
  for k = 1, K do c[k] = 0 end
  for i = 1, #y do c[y[i]] = c[y[i]] + 1 end
  return c
end

--- sv.study.mc_patients(ctx): the multiclass task's patients in every centre; skips when a class has too few
function M.mc_patients(ctx)
  check_ctx(ctx, "mc_patients")
  local task = ctx.task
  local rows, y, counts = M.class_labels(ctx.dev.d, task)
  local classes = task.classes or select(2, outcome_levels(ctx.dev.d, task.outcome))
  ctx.classes = classes
  counts.centre, counts.filtered = ctx.dev.name, ctx.dev.filtered
  ctx.counts = {counts}
  ctx.dev_task = {d = sv.encode.subset(ctx.dev.d, rows), y = y, ids = ctx.dev.ids}
  ctx.ext_task = {}
  for _, e in ipairs(ctx.externals) do
    local r, ye, ce = M.class_labels(e.d, task)
    ce.centre, ce.filtered = e.name, e.filtered
    ctx.counts[#ctx.counts + 1] = ce
    ctx.ext_task[#ctx.ext_task + 1] = {centre = e, d = sv.encode.subset(e.d, r), y = ye}
  end
  local columns = {"centre", "filtered", "n", "missing", "other", "used"}
  for _, c in ipairs(classes) do columns[#columns + 1] = c end
  ctx.report:table(ctx.counts, {name = task.id .. "_patients", columns = columns,
    caption = ("Patients by centre: filtered = rows the encoding's keep filter left out; n = rows kept; " ..
               "missing = outcome '%s' missing (left out); other = a level outside this task; " ..
               "used = in this task; then the patients of each class"):format(task.outcome)})
  local cc = class_counts(y, #classes)
  local min, few = ctx.spec.min_per_class, {}
  for k, c in ipairs(classes) do few[#few + 1] = ("%d %s"):format(cc[k], c) end
  if #y == 0 then
    M.skip(("no patients of the development centre '%s' have outcome '%s' in this task's classes"):format(
      ctx.dev.name, task.outcome))
  end
  for k = 1, #classes do
    if cc[k] < min then
      M.skip(("too few patients of class '%s' in the development centre '%s': %s " ..
              "(at least %d of each class needed; spec field min_per_class)"):format(classes[k], ctx.dev.name,
              table.concat(few, ", "), min))
    end
  end
end

--- sv.study.mc_split(ctx): the split of sv.study.split, stratified by class; each set knows its classes
function M.mc_split(ctx)
  check_ctx(ctx, "mc_split")
  need(ctx, "classes", "mc_patients", "mc_split")
  M.split(ctx)
  local K = #ctx.classes
  for _, set in ipairs(ctx.sets) do
    local cc, present = class_counts(set.y, K), 0
    for k = 1, K do if cc[k] > 0 then present = present + 1 end end
    set.class_counts, set.n_present = cc, present
    set.two_classes = present >= 2
    set.all_classes = present == K
  end
end

-- y as class names and P with its columns named by them, for the diagnostics
local function named(ctx, set)
  local names, yn = ctx.classes, {}
  for i = 1, #set.y do yn[i] = names[set.y[i]] end
  local t = set.score:totable()
  return yn, sv.matrix(t, names)
end

local function hand_till(y, P)
  return sv.roc.multiclass(y, P, {ci = "none"}).auc
end

--- sv.study.mc_tune(ctx): grid search by k-fold CV of Hand and Till's multiclass AUC M on training
function M.mc_tune(ctx)
  check_ctx(ctx, "mc_tune")
  need(ctx, "train", "mc_split", "mc_tune")
  local spec, train = ctx.spec, ctx.train
  local n_grid = 1
  for _, v in pairs(spec.model.grid) do n_grid = n_grid * #v end
  log(ctx, ("grid search, %d settings x %d-fold CV of the multiclass AUC"):format(n_grid, spec.model.folds))
  local tuned = sv.tune.grid(train.d.X, train.y, spec.model.grid,
    {k = spec.model.folds, seed = spec.seed, forest = cv_forest(ctx, forest_opts(ctx)), progress = false,
     metric = hand_till})
  ctx.report:table(tuned.table, {name = ctx.task.id .. "_grid",
    caption = ("Grid search: %d-fold CV multiclass AUC (Hand and Till's M) on training"):format(spec.model.folds)})
  ctx.tuned, ctx.forest = tuned, tuned_forest(ctx, tuned)
end

--- sv.study.mc_select(ctx): ranking by mean |SHAP| summed over the classes, forward selection by CV M
function M.mc_select(ctx)
  check_ctx(ctx, "mc_select")
  need(ctx, "train", "mc_split", "mc_select")
  need(ctx, "forest", "mc_tune", "mc_select")
  local spec, train = ctx.spec, ctx.train
  if spec.selection == false then
    ctx.selected = train.d.names
    return
  end
  log(ctx, "all-feature model and its SHAP ranking (every class)")
  local o = forest_opts(ctx, ctx.forest)
  local full = sv.forest.train(train.d.X, train.y, o)
  local phis = sv.shap.tree(full, train.d.X, {threads = ctx.threads})
  local total, names = {}, train.d.names
  for _, phi in ipairs(phis) do
    for _, r in ipairs(sv.shap.importance(phi)) do total[r.name] = (total[r.name] or 0) + r.value end
  end
  local ranking = {}
  for _, nm in ipairs(names) do ranking[#ranking + 1] = {name = nm, value = total[nm]} end
  table.sort(ranking, function(a, b)
    if a.value ~= b.value then return a.value > b.value end
    return a.name < b.name
  end)
  log(ctx, "forward selection along the SHAP ranking")
  local s = spec.selection
  local sel = sv.select.forward(train.d.X, train.y, {ranking = ranking, forest = cv_forest(ctx, ctx.forest),
    k = spec.model.folds, seed = spec.seed, repeats = s.repeats, max_features = s.max_features, rule = s.rule,
    tol = s.tol, stop_early = false, progress = false, metric = hand_till})
  ctx.report:table(sel.table, {name = ctx.task.id .. "_selection",
    caption = "Forward selection along the SHAP ranking (mean |SHAP| summed over the classes): CV multiclass AUC as features are added"})
  ctx.ranking, ctx.full, ctx.selection, ctx.selected = ranking, full, sel, sel.selected
end

--- sv.study.mc_discrimination(ctx): Hand and Till's M (bootstrap CI), one-vs-rest AUCs (DeLong), confusion
--- matrices with per-class sensitivity and specificity, multiclass Brier score, for every set
function M.mc_discrimination(ctx)
  check_ctx(ctx, "mc_discrimination")
  need(ctx, "sets", "mc_split", "mc_discrimination")
  need(ctx, "model", "final", "mc_discrimination")
  local id, classes = ctx.task.id, ctx.classes
  local disc, ovr_rows, cls_rows, confusion = {}, {}, {}, {}
  for _, set in ipairs(ctx.sets) do
    local row = {set = set.name, n = #set.y}
    for k, c in ipairs(classes) do row[c] = set.class_counts[k] end
    if set.two_classes then
      local yn, P = named(ctx, set)
      local m = sv.roc.multiclass(yn, P, {seed = ctx.spec.seed, threads = ctx.threads})
      row.auc, row.auc_lo, row.auc_hi, row.classes_present = m.auc, m.lo, m.hi, m.n_classes
      row.brier = sv.calib.brier_multiclass(yn, P)
      local cm = sv.metrics.confusion(yn, P)
      row.accuracy = cm.accuracy
      for _, o in ipairs(sv.roc.ovr(yn, P)) do
        ovr_rows[#ovr_rows + 1] = {set = set.name, class = o.class, cases = o.n_case, controls = o.n_control,
                                   auc = o.auc, lo = o.lo, hi = o.hi}
      end
      for _, pc in ipairs(cm.per_class) do
        cls_rows[#cls_rows + 1] = {set = set.name, class = pc.class, n = pc.n, sensitivity = pc.sens,
                                   specificity = pc.spec, ppv = pc.ppv}
      end
      local M_ = cm.matrix
      local rows = {}
      for a, ca in ipairs(classes) do
        local r = {true_class = ca}
        for b, cb in ipairs(classes) do r[cb] = M_:get(a, b) end
        rows[a] = r
      end
      local cols = {"true_class"}
      for _, c in ipairs(classes) do cols[#cols + 1] = c end
      confusion[#confusion + 1] = {rows, {name = id .. "_confusion_" .. set.name:gsub("[^%w_%-]", "_"), columns = cols,
        caption = ("Confusion matrix, %s set: rows the true class, columns the most probable class " ..
                   "(accuracy %.3f)"):format(set.name, cm.accuracy)}}
      if not set.all_classes then
        ctx.notes[#ctx.notes + 1] = ("set '%s' lacks a class: M is over the %d classes present"):format(set.name, m.n_classes)
      end
    else
      ctx.notes[#ctx.notes + 1] = ("set '%s' has one class only: no AUC"):format(set.name)
    end
    disc[#disc + 1] = row
  end
  local cols = {"set", "n"}
  for _, c in ipairs(classes) do cols[#cols + 1] = c end
  for _, c in ipairs({"auc", "auc_lo", "auc_hi", "brier", "accuracy"}) do cols[#cols + 1] = c end
  ctx.report:table(disc, {name = id .. "_discrimination", columns = cols,
    caption = "Discrimination of the selected model: Hand and Till's multiclass AUC M with a stratified bootstrap " ..
              "95% CI, multiclass Brier score (0 to 2) and accuracy of the most probable class; training out-of-bag"})
  ctx.report:table(ovr_rows, {name = id .. "_ovr", columns = {"set", "class", "cases", "controls", "auc", "lo", "hi"},
    caption = "One-vs-rest AUC of each class with DeLong's 95% CI"})
  ctx.report:table(cls_rows, {name = id .. "_per_class",
    columns = {"set", "class", "n", "sensitivity", "specificity", "ppv"},
    caption = "Per-class sensitivity, specificity and PPV of the most probable class (one class against the rest)"})
  for _, c in ipairs(confusion) do ctx.report:table(c[1], c[2]) end
  ctx.discrimination, ctx.ovr, ctx.per_class = disc, ovr_rows, cls_rows
end

--- sv.study.mc_curves(ctx): one-vs-rest ROC curves of every set; per-class calibration of the test sets
function M.mc_curves(ctx)
  check_ctx(ctx, "mc_curves")
  need(ctx, "sets", "mc_split", "mc_curves")
  need(ctx, "model", "final", "mc_curves")
  local id, label = ctx.task.id, ctx.task.label
  local calib = {}
  for k, set in ipairs(ctx.sets) do
    if set.two_classes then
      local yn, P = named(ctx, set)
      local slug = set.name:gsub("[^%w_%-]", "_")
      local what = set == ctx.train and "training (out-of-bag)" or set.name
      ctx.report:figure(sv.plot.roc_ovr(yn, P, {title = ("%s: one-vs-rest ROC, %s"):format(label, what)}),
        {name = id .. "_roc_" .. slug, caption = ("One-vs-rest ROC curves, %s, AUC with 95%% DeLong CI"):format(what)})
      if k > 1 then
        for _, c in ipairs(sv.calib.per_class(yn, P)) do
          calib[#calib + 1] = {set = set.name, class = c.class, n = #yn, brier = c.brier}
        end
        local models = {}
        for j, c in ipairs(ctx.classes) do
          local y01, p = {}, {}
          for i = 1, #yn do y01[i] = yn[i] == c and 1 or 0; p[i] = P:get(i, j) end
          models[#models + 1] = {name = c, y = y01, p = p}
        end
        ctx.report:figure(sv.plot.calibration(models, {title = ("%s: calibration by class, %s"):format(label, set.name)}),
          {name = id .. "_calibration_" .. slug, caption = ("Calibration of each class's probability, %s set"):format(set.name)})
      end
    end
  end
  if #calib > 0 then
    ctx.report:table(calib, {name = id .. "_calibration", columns = {"set", "class", "n", "brier"},
      caption = "Per-class calibration on the test sets: binary Brier score of each class's probability against its one-vs-rest outcome"})
  end
  ctx.calibration = calib
end

--- sv.study.mc_shap(ctx): per-class TreeSHAP of the final model: a beeswarm per class and the summed bar chart
function M.mc_shap(ctx)
  check_ctx(ctx, "mc_shap")
  need(ctx, "model", "final", "mc_shap")
  log(ctx, "SHAP figures per class")
  local id, selected, train = ctx.task.id, ctx.selected, ctx.train
  local labels = M.feature_labels(ctx.dev.enc)
  local Xs = train.d.X:cols(selected)
  local phis = sv.shap.tree(ctx.model, Xs, {threads = ctx.threads})
  local total = {}
  for k, phi in ipairs(phis) do
    local c = ctx.classes[k]
    for _, r in ipairs(sv.shap.importance(phi)) do
      total[#total + 1] = {class = c, feature = r.name, mean_abs_shap = r.value}
    end
    ctx.report:figure(sv.plot.shap_beeswarm(phi, Xs, {labels = labels}),
      {name = id .. "_shap_beeswarm_" .. c:gsub("[^%w_%-]", "_"),
       caption = ("SHAP summary of the final model for the probability of class '%s' (training)"):format(c)})
  end
  ctx.report:table(total, {name = id .. "_shap", columns = {"class", "feature", "mean_abs_shap"},
    caption = "Mean |SHAP| of each feature for each class's probability (training)"})
  ctx.importance = total
end

M.kinds.multiclass = {
  {name = "patients", run = M.mc_patients},
  {name = "split", run = M.mc_split},
  {name = "table1", run = M.table1},
  {name = "shift", run = M.shift},
  {name = "tune", run = M.mc_tune},
  {name = "select", run = M.mc_select},
  {name = "final", run = M.final},
  {name = "discrimination", run = M.mc_discrimination},
  {name = "curves", run = M.mc_curves},
  {name = "shap", run = M.mc_shap},
}

---------------------------------------------------------------------------
-- Steps of a survival task: one random survival forest of the encoded time
-- and event (docs/study.md, "Survival tasks"). Each set holds time, event
-- (set.y, so the split is stratified by event) and the forest's risk
-- (set.score; out-of-bag on training) and S(t) at the horizons (set.S,
-- test sets only: the forest has no out-of-bag survival curves).
---------------------------------------------------------------------------

-- time and event names of a survival task: the task's, else spec.survival's
local function surv_names(spec, task)
  local sp = spec.survival or {}
  return task.time or sp.time, task.event or sp.event
end

local function fmt_num(x) return (("%.6g"):format(x)) end

--- sv.study.surv_patients(ctx): complete cases of time and event in every centre (sv.encode.complete_cases),
--- counted; skips when the development centre has too few events
function M.surv_patients(ctx)
  check_ctx(ctx, "surv_patients")
  local task = ctx.task
  local tname, ename = surv_names(ctx.spec, task)
  local function cases(c)
    local idx, info = sv.encode.complete_cases(c.d, {time = tname, event = ename})
    -- the forest needs time > 0: a patient censored on the day of diagnosis adds no information
    local keep, zero = {}, 0
    local t = c.d.outcomes[tname]
    for _, i in ipairs(idx) do
      if t[i] > 0 then keep[#keep + 1] = i else zero = zero + 1 end
    end
    local d = sv.encode.subset(c.d, keep)
    local ev = d.outcomes[ename]
    local y, events = {}, 0
    for i = 1, d.n do y[i] = ev[i]; events = events + ev[i] end
    local counts = {centre = c.name, filtered = c.filtered, n = c.d.n, missing = info.dropped, time_zero = zero,
                    used = d.n, events = events, left_out = info.text}
    return d, sv.vector(y), counts
  end
  local d, y, counts = cases(ctx.dev)
  ctx.counts = {counts}
  ctx.dev_task = {d = d, y = y, ids = ctx.dev.ids}
  ctx.ext_task = {}
  for _, e in ipairs(ctx.externals) do
    local de, ye, ce = cases(e)
    ctx.counts[#ctx.counts + 1] = ce
    ctx.ext_task[#ctx.ext_task + 1] = {centre = e, d = de, y = ye}
  end
  ctx.report:table(ctx.counts, {name = task.id .. "_patients",
    columns = {"centre", "filtered", "n", "missing", "time_zero", "used", "events"},
    caption = ("Patients by centre: filtered = rows the encoding's keep filter left out; n = rows kept; " ..
               "missing = follow-up time '%s' or event '%s' missing (left out, sv.encode.complete_cases); " ..
               "time_zero = follow-up time 0 (left out); used = in this task; events = of them, with the event")
               :format(tname, ename)})
  for _, c in ipairs(ctx.counts) do
    if c.missing > 0 then ctx.notes[#ctx.notes + 1] = ("centre '%s': %s"):format(c.centre, c.left_out) end
  end
  local min, events = ctx.spec.min_per_class, counts.events
  if #y == 0 then
    M.skip(("no patients of the development centre '%s' have a follow-up time '%s' and event '%s'"):format(
      ctx.dev.name, tname, ename))
  elseif events < min or #y - events < min then
    M.skip(("too few events in the development centre '%s': %d events, %d censored " ..
            "(at least %d of each needed; spec field min_per_class)"):format(ctx.dev.name, events, #y - events, min))
  end
end

--- sv.study.surv_split(ctx): the split of sv.study.split, stratified by event; each set gets time and event
function M.surv_split(ctx)
  check_ctx(ctx, "surv_split")
  need(ctx, "dev_task", "surv_patients", "surv_split")
  M.split(ctx)
  local tname, ename = surv_names(ctx.spec, ctx.task)
  for _, set in ipairs(ctx.sets) do
    set.time, set.event = set.d.outcomes[tname], set.y
    local events = 0
    for i = 1, #set.y do events = events + set.y[i] end
    set.events = events
  end
end

--- sv.study.surv_fit(ctx): a random survival forest (sv.forest.survival) on training; the risk of every set
--- (out-of-bag on training) and S(t) at the horizons on the test sets
function M.surv_fit(ctx)
  check_ctx(ctx, "surv_fit")
  need(ctx, "train", "surv_split", "surv_fit")
  local train = ctx.train
  log(ctx, ("random survival forest, %d trees"):format(ctx.spec.model.trees))
  local f = sv.forest.survival(train.d.X, train.time, train.event,
    {trees = ctx.spec.model.trees, seed = ctx.spec.seed, threads = ctx.threads})
  ctx.model, ctx.selected = f, train.d.names
  note_missing_features(ctx, train.d.names)
  train.score = f:oob_predict()
  for k = 2, #ctx.sets do
    local set = ctx.sets[k]
    set.score = f:predict(set.d.X)
  end
end

-- the horizons a set can be judged at: not after its last follow-up time
local function usable_horizons(ctx, set)
  local tmax = 0
  for i = 1, #set.time do if set.time[i] > tmax then tmax = set.time[i] end end
  local out = {}
  for _, h in ipairs(ctx.task.horizons) do if h <= tmax then out[#out + 1] = h end end
  return out
end

-- rows of a set with a finite risk (a training row never out of bag has none)
local function finite_rows(set)
  local t, e, r = {}, {}, {}
  for i = 1, #set.time do
    if not isnan(set.score[i]) then t[#t + 1], e[#e + 1], r[#r + 1] = set.time[i], set.event[i], set.score[i] end
  end
  return sv.vector(t), sv.vector(e), sv.vector(r)
end

--- sv.study.surv_performance(ctx): Harrell's and Uno's C, AUC(t) and Brier(t) with the IBS at the horizons,
--- calibration at a horizon, of every set; figures AUC(t), Brier(t), calibration at t
function M.surv_performance(ctx)
  check_ctx(ctx, "surv_performance")
  need(ctx, "model", "surv_fit", "surv_performance")
  local id, label, task = ctx.task.id, ctx.task.label, ctx.task
  local z = 1.959963984540054
  local t_cal = task.horizon or task.horizons[#task.horizons]
  local conc, td, cal, auc_models, brier_models, cal_models = {}, {}, {}, {}, {}, {}
  ctx.surv = {}
  for k, set in ipairs(ctx.sets) do
    local what = k == 1 and "training (out-of-bag)" or set.name
    local time, event, risk = finite_rows(set)
    local row = {set = set.name, n = #time, events = set.events}
    local res = {name = set.name, n = #time, time = time, event = event, risk = risk}
    if set.events == 0 or set.events == #set.y then
      ctx.notes[#ctx.notes + 1] = ("set '%s' has %s: no concordance or time-dependent metrics"):format(set.name,
        set.events == 0 and "no events" or "no censored patients")
    else
      local c, cc = sv.surv.concordance(time, event, risk)
      local u, uc = sv.surv.concordance(time, event, risk, {timewt = "n/G2"})
      row.harrell_c, row.harrell_lo, row.harrell_hi = c, c - z * cc.se, c + z * cc.se
      row.uno_c, row.uno_lo, row.uno_hi = u, u - z * uc.se, u + z * uc.se
      res.harrell, res.uno = {c = c, se = cc.se}, {c = u, se = uc.se}
      local hs = usable_horizons(ctx, set)
      if #hs < #task.horizons then
        ctx.notes[#ctx.notes + 1] = ("set '%s': horizons after its last follow-up time left out (%d of %d kept)")
          :format(set.name, #hs, #task.horizons)
      end
      if #hs > 0 then
        local a = sv.surv.auc_t(time, event, risk, hs)
        res.auc_t, res.horizons = a, hs
        auc_models[#auc_models + 1] = {name = what, result = a}
        local b
        if k > 1 then
          local S = ctx.model:survival(set.d.X, hs)
          set.S = S
          b = sv.surv.brier_t(time, event, S, hs)
          res.brier_t = b
          brier_models[#brier_models + 1] = {name = what, result = b}
        end
        for j, h in ipairs(hs) do
          td[#td + 1] = {set = set.name, time = h, cases = a.cases[j], controls = a.controls[j],
            auc = a.auc[j], auc_lo = a.lo[j], auc_hi = a.hi[j],
            brier = b and b.brier[j], brier_lo = b and b.lo[j], brier_hi = b and b.hi[j], ibs = b and b.ibs[j]}
        end
        if k > 1 then
          local jc
          for j, h in ipairs(hs) do if h == t_cal then jc = j end end
          if jc then
            -- a predicted S(t) of exactly 1 (no tree saw an event before t in
            -- its leaf) or 0 has no log(-log S) for the slope: left out, counted
            local s, tc, ec, out = {}, {}, {}, 0
            for i = 1, #time do
              local v = set.S:get(i, jc)
              if v > 0 and v < 1 then s[#s + 1], tc[#tc + 1], ec[#ec + 1] = v, time[i], event[i] else out = out + 1 end
            end
            if out > 0 then
              ctx.notes[#ctx.notes + 1] = ("set '%s': %d patient%s with a predicted S(%s) of exactly 0 or 1 left out of " ..
                "the calibration"):format(set.name, out, out == 1 and "" or "s", fmt_num(t_cal))
            end
            tc, ec = sv.vector(tc), sv.vector(ec)
            local cl = sv.surv.calibration_t(tc, ec, s, t_cal)
            res.calibration = cl
            cal[#cal + 1] = {set = set.name, time = t_cal, observed = cl.observed, expected = cl.expected,
              oe = cl.oe, oe_lo = cl.oe_lo, oe_hi = cl.oe_hi, slope = cl.slope, slope_lo = cl.slope_lo,
              slope_hi = cl.slope_hi}
            cal_models[#cal_models + 1] = {name = set.name, time = tc, event = ec, S = s}
          else
            ctx.notes[#ctx.notes + 1] = ("set '%s': no calibration at %s (after its last follow-up time)")
              :format(set.name, fmt_num(t_cal))
          end
        end
      end
    end
    conc[#conc + 1] = row
    ctx.surv[k] = res
  end
  local unit = (ctx.spec.survival or {}).unit or "time units"
  ctx.report:table(conc, {name = id .. "_concordance",
    columns = {"set", "n", "events", "harrell_c", "harrell_lo", "harrell_hi", "uno_c", "uno_lo", "uno_hi"},
    caption = "Concordance of the forest's risk (ensemble mortality; out-of-bag on training): Harrell's C and " ..
              "Uno's C (censoring weights 1/G(t)^2, R's timewt = \"n/G2\"), 95% CI from the infinitesimal-jackknife SE"})
  ctx.report:table(td, {name = id .. "_time_dependent",
    columns = {"set", "time", "cases", "controls", "auc", "auc_lo", "auc_hi", "brier", "brier_lo", "brier_hi", "ibs"},
    caption = ("Time-dependent performance at the horizons (%s): Uno's IPCW cumulative/dynamic AUC(t) of the risk " ..
               "and the IPCW Brier score of S(t) with the integrated Brier score up to each horizon over these " ..
               "horizons (riskRegression::Score conventions); 95%% CIs; no Brier score on training, which has no " ..
               "out-of-bag survival curves"):format(unit)})
  if #auc_models > 0 then
    ctx.report:figure(sv.plot.auc_t(auc_models, {title = label .. ": AUC(t)"}),
      {name = id .. "_auc_t", caption = "Time-dependent AUC of the forest's risk with its 95% pointwise CI"})
  end
  if #brier_models > 0 then
    ctx.report:figure(sv.plot.brier_t(brier_models, {title = label .. ": Brier score"}),
      {name = id .. "_brier_t", caption = "Brier score of the forest's S(t) on the test sets, integrated Brier score in the legend"})
  end
  if #cal_models > 0 then
    ctx.report:table(cal, {name = id .. "_calibration",
      columns = {"set", "time", "observed", "expected", "oe", "oe_lo", "oe_hi", "slope", "slope_lo", "slope_hi"},
      caption = ("Calibration at %s %s on the test sets: observed (1 - Kaplan-Meier) and expected (mean predicted) " ..
                 "risk, O/E with 95%% CI, calibration slope"):format(fmt_num(t_cal), unit)})
    ctx.report:figure(sv.plot.calibration_t(cal_models, t_cal, {title = ("%s: calibration at %s %s"):format(label,
      fmt_num(t_cal), unit)}), {name = id .. "_calibration_t",
      caption = ("Observed against predicted risk at %s %s by decile of predicted risk, test sets"):format(fmt_num(t_cal), unit)})
  end
  ctx.concordance, ctx.time_dependent, ctx.calibration = conc, td, cal
  ctx.discrimination = conc
end

--- sv.study.surv_riskgroups(ctx): the cut-point of the risk chosen on training (sv.surv.cutpoint, OOB risk),
--- applied unchanged to every set: Kaplan-Meier by risk group and the log-rank test
function M.surv_riskgroups(ctx)
  check_ctx(ctx, "surv_riskgroups")
  need(ctx, "surv", "surv_performance", "surv_riskgroups")
  local sp = ctx.spec.survival or {}
  local train = ctx.surv[1]
  if ctx.train.events == 0 then return end
  local cp = sv.surv.cutpoint(train.time, train.event, train.risk)
  log(ctx, ("risk groups at the training cut-point %.4g"):format(cp.cut))
  local rows = {}
  for k, res in ipairs(ctx.surv) do
    local group, n_high = {}, 0
    local hi_name, lo_name = (sp.groups or {})[1] or "High risk", (sp.groups or {})[2] or "Low risk"
    for i = 1, #res.risk do
      local hi = res.risk[i] > cp.cut
      group[i] = hi and hi_name or lo_name
      if hi then n_high = n_high + 1 end
    end
    local row = {set = res.name, n = res.n, n_high = n_high, n_low = res.n - n_high, events = ctx.sets[k].events}
    if n_high > 0 and n_high < res.n and row.events > 0 then
      local lr = sv.surv.logrank(res.time, res.event, group)
      row.logrank_chisq, row.logrank_p = lr.chisq, lr.p
      local what = k == 1 and "training (out-of-bag risk)" or res.name
      ctx.report:figure(sv.plot.km({time = res.time, event = res.event, group = group},
        {title = ("%s: risk groups, %s"):format(ctx.task.label, what), xlab = sp.xlab or capitalise(sp.unit or "time"),
         ylab = sp.label or "Survival", breaks = sp.breaks, xmax = sp.xmax, pvalue = lr.p}),
        {name = ("%s_km_%s"):format(ctx.task.id, res.name:gsub("[^%w_%-]", "_")),
         caption = ("Kaplan-Meier curves by risk group, %s: high risk = forest risk > %.4g, the cut chosen on " ..
                    "training (maximally selected log-rank, Lau's p = %.3g) and applied unchanged"):format(what, cp.cut, cp.p)})
    else
      ctx.notes[#ctx.notes + 1] = ("set '%s': no log-rank test by risk group (%s)"):format(res.name,
        row.events == 0 and "no events" or "all patients in one risk group")
    end
    rows[#rows + 1] = row
  end
  ctx.report:table(rows, {name = ctx.task.id .. "_riskgroups",
    columns = {"set", "n", "n_high", "n_low", "events", "logrank_chisq", "logrank_p"},
    caption = ("High vs low risk at the training cut-point %.6g of the forest's risk (maximally selected log-rank " ..
               "statistic %.3f, Lau's p = %.3g, %d candidate cuts), applied unchanged to every set"):format(
               cp.cut, cp.statistic, cp.p, cp.ncuts)})
  ctx.cutpoint, ctx.riskgroups = cp, rows
  ctx.cut = cp.cut
end

--- sv.study.surv_shap(ctx): TreeSHAP of the survival forest's risk on training (beeswarm, bar, dependence)
--- where sv.shap.tree takes a survival forest; else a note
function M.surv_shap(ctx)
  check_ctx(ctx, "surv_shap")
  need(ctx, "model", "surv_fit", "surv_shap")
  local id, train = ctx.task.id, ctx.train
  local X = train.d.X
  log(ctx, "SHAP figures of the risk")
  local ok, phi = pcall(sv.shap.tree, ctx.model, X, {threads = ctx.threads})
  if not ok then
    ctx.notes[#ctx.notes + 1] = "SHAP is not available for this task kind: sv.shap.tree does not take a survival forest"
    return
  end
  local labels = M.feature_labels(ctx.dev.enc)
  ctx.importance = {}
  for k, r in ipairs(sv.shap.importance(phi)) do
    ctx.importance[k] = {rank = k, feature = r.name, mean_abs_shap = r.value}
  end
  ctx.report:table(ctx.importance, {name = id .. "_shap", columns = {"rank", "feature", "mean_abs_shap"},
    caption = "Mean |SHAP| of each feature for the survival forest's risk (ensemble mortality), training"})
  ctx.report:figure(sv.plot.shap_beeswarm(phi, X, {labels = labels}),
    {name = id .. "_shap_beeswarm", caption = "SHAP summary of the survival forest's risk (training; higher = shorter survival)"})
  ctx.report:figure(sv.plot.shap_bar(phi, {labels = labels}),
    {name = id .. "_shap_bar", caption = "Mean |SHAP| of the survival forest's risk (training)"})
  for k = 1, math.min(ctx.spec.dependence, #ctx.importance) do
    local f = ctx.importance[k].feature
    ctx.report:figure(sv.plot.shap_dependence(phi, X, f, {labels = labels}),
      {name = id .. "_dependence_" .. f, caption = "SHAP dependence of the risk: " .. (labels[f] or f)})
  end
end

M.kinds.survival = {
  {name = "patients", run = M.surv_patients},
  {name = "split", run = M.surv_split},
  {name = "table1", run = M.table1},
  {name = "fit", run = M.surv_fit},
  {name = "performance", run = M.surv_performance},
  {name = "riskgroups", run = M.surv_riskgroups},
  {name = "shap", run = M.surv_shap},
}

---------------------------------------------------------------------------
-- Methods text, from the spec and the data
---------------------------------------------------------------------------

local function join_words(t)
  if #t <= 1 then return t[1] or "" end
  return table.concat(t, ", ", 1, #t - 1) .. " and " .. t[#t]
end

local RULE_WORDS = {median = "median", mean = "mean", mode = "the most frequent value", constant = "a constant"}

--- sv.study.methods(spec, dev, externals) -> the methods paragraphs, from the spec and the encodings
function M.methods(spec, dev, ext)
  spec = M.spec(spec)
  if type(dev) ~= "table" or type(dev.d) ~= "table" or type(dev.enc) ~= "table" then
    error("bad argument #2 to 'study.methods' (a centre from sv.study.load_centres expected)", 2)
  end
  if type(ext) ~= "table" then error("bad argument #3 to 'study.methods' (a list of centres expected)", 2) end
  local tr = spec.split.train
  local ratio = (math.abs(tr * 10 - math.floor(tr * 10 + 0.5)) < 1e-9)
    and ("%d:%d"):format(math.floor(tr * 10 + 0.5), 10 - math.floor(tr * 10 + 0.5))
    or ("%g:%g"):format(tr, 1 - tr)
  local parts = {}
  parts[1] = ("The development set, %s (n = %d), was split %s, stratified by the outcome, into a training and an internal test set")
    :format(dev.name, dev.d.n, ratio)
  if #ext == 1 then
    parts[1] = parts[1] .. ("; %s (n = %d) is the external test set."):format(ext[1].name, ext[1].d.n)
  elseif #ext > 1 then
    local names = {}
    for i, e in ipairs(ext) do names[i] = ("%s (n = %d)"):format(e.name, e.d.n) end
    parts[1] = parts[1] .. "; " .. join_words(names) .. " are external test sets."
  else
    parts[1] = parts[1] .. "."
  end
  -- imputation rules as the development encoding states them
  local rules, default = {}, nil
  local imp = dev.enc.impute or {}
  default = imp["*"]
  local by_rule, order = {}, {}
  for _, f in ipairs(dev.enc.features) do
    local r = imp[f.name]
    if r ~= nil and r ~= default then
      local key = type(r) == "table" and "constant" or r
      if not by_rule[key] then by_rule[key] = {}; order[#order + 1] = key end
      local lab = f.label and f.label:gsub("%s*%b()", "") or f.name
      by_rule[key][#by_rule[key] + 1] = lab
    end
  end
  for _, key in ipairs(order) do
    rules[#rules + 1] = ("%s for %s"):format(RULE_WORDS[key] or key, join_words(by_rule[key]))
  end
  if default then
    local key = type(default) == "table" and "constant" or default
    rules[#rules + 1] = (#rules > 0 and "%s otherwise" or "%s for every feature"):format(RULE_WORDS[key] or key)
  end
  if #rules > 0 then
    parts[#parts + 1] = ("Missing values were imputed with statistics of the training set only (%s).")
      :format(table.concat(rules, ", "))
  end
  local grid_keys = {}
  for k in pairs(spec.model.grid) do grid_keys[#grid_keys + 1] = k end
  table.sort(grid_keys)
  local folds = spec.model.folds
  parts[#parts + 1] = ("Random forests (%d trees) were tuned by grid search (%s) with %d-fold cross-validated AUC on the training set."):format(
    spec.model.trees, table.concat(grid_keys, " x "), folds)
  local cvt = spec.model.cv_trees
  if cvt and cvt ~= spec.model.trees then
    parts[#parts + 1] = ("The forests fitted inside cross-validation (grid search and forward selection) had %d trees."):format(cvt)
  end
  local s = spec.selection
  if s == false then
    parts[#parts + 1] = "The final model uses every feature; the SHAP figures show each feature's contribution (exact TreeSHAP) on the training set."
  else
  local rule = s.rule == "tol" and ("while the %s%d-fold CV AUC improved by more than %g"):format(
    s.repeats > 1 and s.repeats .. " x repeated " or "", folds, s.tol)
    or s.rule == "1se" and ("while the %s%d-fold CV AUC rose, keeping the fewest features whose AUC is within one standard error of the best"):format(
      s.repeats > 1 and s.repeats .. " x repeated " or "", folds)
    or ("by the '%s' rule on the %d-fold CV AUC"):format(s.rule, folds)
  parts[#parts + 1] = ("Features were ranked by mean |SHAP| (exact TreeSHAP) of the all-feature model on the training set and added in that order %s; the final model uses the selected features."):format(rule)
  end
  local p1 = table.concat(parts, " ")
  local p2 = "Training-set performance is out-of-bag (each patient scored only by trees that did not see them). The Youden cut-off of the training out-of-bag scores is applied unchanged to the test sets, for sensitivity, specificity and accuracy (exact 95% CIs)"
  if spec.survival then
    p2 = p2 .. (" and to split patients (%s) into high and low model score for the analysis of %s (Kaplan-Meier, log-rank test, Cox model)")
      :format(survival_who(spec), (spec.survival.label or "survival"):lower())
  end
  p2 = p2 .. ". AUC 95% CIs are DeLong's. Patients with a missing outcome are left out of that task, and patients with a missing follow-up time or event out of the survival analysis; the tables count them."
  local out = {p1, p2}
  for _, t in ipairs(spec.tasks) do
    if t.kind == "multiclass" then
      out[#out + 1] = "A task of several classes is one random forest of as many classes (class probabilities), tuned and, " ..
        "when selection is on, selected by the cross-validated multiclass AUC of Hand and Till (M; features ranked by " ..
        "mean |SHAP| summed over the classes). Each set reports M with a stratified bootstrap 95% CI, each class's " ..
        "one-vs-rest AUC with DeLong's 95% CI, the confusion matrix of the most probable class with each class's " ..
        "sensitivity and specificity, the multiclass Brier score, and each class's calibration on the test sets; " ..
        "SHAP values are computed for each class's probability."
      break
    end
  end
  for _, t in ipairs(spec.tasks) do
    if t.kind == "survival" then
      out[#out + 1] = "A survival task models the follow-up time and event directly with a random survival forest " ..
        ("(%d trees, log-rank splits, Nelson-Aalen leaves; ranger's semantics) fitted on the training set, patients with a "):format(spec.model.trees) ..
        "missing time or event left out and counted. The risk is the ensemble mortality (out-of-bag on training). Each set " ..
        "reports Harrell's and Uno's C, Uno's IPCW time-dependent AUC and the IPCW Brier score with the integrated Brier " ..
        "score at the task's horizons, and calibration at a horizon (observed Kaplan-Meier against predicted risk by " ..
        "decile, O/E, slope) on the test sets; patients are split into high and low risk at the cut-point that maximises " ..
        "the log-rank statistic on training (Lau's p-value), applied unchanged to the test sets."
      break
    end
  end
  local v = spec.validation
  if v and v.method == "bootstrap" then
    local est = v.estimator or "optimism"
    out[#out + 1] = ("The whole modelling pipeline (imputation statistics, grid search, SHAP ranking and forward selection, final forest) was internally validated on all patients of the development centre by %s with %d bootstrap replicates, every step redone in each replicate; AUC, Brier score, calibration slope, calibration-in-the-large and the calibration errors Emax, E90 and ICI (Austin & Steyerberg 2019; lowess calibration curve as rms::val.prob) are reported as apparent, optimism and optimism-corrected values, with the prediction instability across replicates (Riley & Collins 2023) and how often each feature was selected."):format(
      est == "optimism" and "Harrell's optimism bootstrap" or ("the " .. est .. " bootstrap"), v.B or 200)
  end
  if spec.methods then out[#out + 1] = spec.methods end
  return out
end

---------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------

local function quick_spec(spec)
  local q = spec.quick
  local model = merge(spec.model, {})
  model.trees = q.trees or model.trees
  if model.cv_trees and model.cv_trees > model.trees then model.cv_trees = model.trees end
  if q.grid then model.grid = q.grid
  else
    model.grid = {}
    for k, v in pairs(spec.model.grid) do model.grid[k] = {v[1], v[2]} end
  end
  spec.model = model
  local v = spec.validation
  if v and v.method == "bootstrap" then
    local c = {}
    for k, x in pairs(v) do c[k] = x end
    c.B = math.min(v.B or 200, q.B or 10)
    spec.validation = c
  end
end

local function default_out(spec)
  if spec.out then return spec.out end
  if spec.path then
    local stem = spec.path:match("([^/]+)%.lua$") or "study"
    if stem == "study" or stem == "spec" then stem = dirname(spec.path):match("([^/]+)$") or stem end
    return "out/" .. stem
  end
  return "out/study"
end

local function message_of(err)
  return tostring(err)
end

local RUN_OPTS = {out = 1, threads = 1, quick = 1, log = 1, write = 1, bootstrap = 1}

--- sv.study.run(spec_or_path [, {out =, threads =, quick =, log =}]) -> result
function M.run(s, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #2 to 'study.run' (options table expected)", 2) end
  for k in pairs(opts) do
    if not RUN_OPTS[k] then error(("unknown option '%s' to study.run"):format(tostring(k)), 2) end
  end
  local spec = M.spec(s)
  if opts.bootstrap then                         -- validation = {method = "bootstrap", B = opts.bootstrap}
    if math.type(opts.bootstrap) ~= "integer" or opts.bootstrap < 1 then
      error("bad option 'bootstrap' to study.run (an integer >= 1 expected)", 2)
    end
    local copy = {}
    for k, v in pairs(spec) do copy[k] = v end
    local v = {method = "bootstrap", B = opts.bootstrap}
    if spec.validation and spec.validation.method == "bootstrap" then v.estimator = spec.validation.estimator end
    copy.validation = v
    spec = copy
  end
  if opts.quick then
    local copy = {}
    for k, v in pairs(spec) do copy[k] = v end
    spec = copy
    quick_spec(spec)
  end
  local out = opts.out or default_out(spec)
  local threads = opts.threads or 0
  local t0 = sv.clock()
  local logf = opts.log
  if logf == nil then
    logf = function(what) io.stderr:write(("[%5.1f s] %s\n"):format(sv.clock() - t0, what)) end
  elseif logf == false then
    logf = nil
  end

  if logf then logf("reading and encoding the centres") end
  local dev, ext, failed_centres = M.load_centres(spec, {failed = "report"})
  for _, f in ipairs(failed_centres) do
    if logf then logf(("centre '%s' failed to load, the study goes on without it: %s"):format(f.name, f.error)) end
  end

  local report = sv.report.new({title = spec.title, subtitle = spec.subtitle, script = spec.path})
  for _, c in ipairs({dev, table.unpack(ext)}) do
    report:input(c.data, c.name .. " data")
    report:input(c.encoding, c.name .. " encoding")
  end
  report:section("Methods")
  for _, p in ipairs(M.methods(spec, dev, ext)) do report:text(p) end
  if #failed_centres > 0 then
    local rows = {}
    for i, f in ipairs(failed_centres) do rows[i] = {centre = f.name, data = f.data, encoding = f.encoding, error = f.error} end
    report:table(rows, {name = "centres_failed", columns = {"centre", "data", "encoding", "error"},
      caption = "External centres that could not be loaded: FAILED, left out of every task (the tasks ran without them)"})
  end
  report:seed("study", spec.seed)
  report:option("trees", spec.model.trees)
  if spec.model.cv_trees then report:option("cv_trees", spec.model.cv_trees) end
  report:option("grid", spec.model.grid)
  report:option("folds", spec.model.folds)
  local summary_at = #report.blocks + 1          -- the task summary goes here once all have run

  local result = {tasks = {}, out = out}
  local predictions = {}
  for _, task in ipairs(spec.tasks) do
    local steps = M.kinds[task.kind]
    local ctx = {spec = spec, task = task, report = report, dev = dev, externals = ext, threads = threads,
                 notes = {}, log = logf}
    report:section(task.title)
    local r = {id = task.id, title = task.title, status = "done"}
    if not steps then
      r.status, r.reason = "failed", ("unknown task kind '%s'"):format(tostring(task.kind))
    else
      for _, st in ipairs(steps) do
        local ok, err = pcall(st.run, ctx)
        -- Ctrl-C stops the study, not just the task
        if not ok and type(err) == "string" and err:find("interrupted!?$") then error("interrupted", 0) end
        if not ok then
          local why = skipped_reason(err)
          if why then
            r.status, r.reason = "skipped", why
          else
            r.status, r.reason = "failed", ("step '%s': %s"):format(st.name, message_of(err))
          end
          break
        end
      end
    end
    if task.kind == "survival" and spec.validation then
      ctx.notes[#ctx.notes + 1] = ("validation = {method = \"%s\"} is done for binary tasks only; " ..
        "this survival task has its single split"):format(spec.validation.method)
    end
    if task.kind == "multiclass" and spec.validation then
      ctx.notes[#ctx.notes + 1] = ("validation = {method = \"%s\"} is done for binary tasks only; " ..
        "this multiclass task has its single split"):format(spec.validation.method)
    end
    r.features = ctx.selected
    r.kind, r.classes = task.kind, ctx.classes
    r.validation = ctx.validation
    r.counts = ctx.counts
    r.notes = ctx.notes
    if task.kind == "survival" and ctx.concordance then
      r.sets = {}                                -- C is Harrell's, its 95% CI from the jackknife SE
      for _, d in ipairs(ctx.concordance) do
        r.sets[#r.sets + 1] = {name = d.set, n = d.n, events = d.events, c = d.harrell_c, lo = d.harrell_lo,
                               hi = d.harrell_hi, uno = d.uno_c, uno_lo = d.uno_lo, uno_hi = d.uno_hi}
      end
    elseif ctx.discrimination then
      r.sets = {}
      for _, d in ipairs(ctx.discrimination) do
        r.sets[#r.sets + 1] = {name = d.set, n = d.n, auc = d.auc, lo = d.auc_lo, hi = d.auc_hi}
      end
    end
    if ctx.survival then
      r.logrank_p, r.hr = ctx.survival.logrank_p, ctx.survival.hr
    end
    if r.status ~= "done" then
      report:text((r.status == "failed" and "This task failed: %s" or "This task was skipped: %s"):format(r.reason))
      if logf then logf(("%s: %s: %s"):format(task.id, r.status, r.reason)) end
    end
    for _, n in ipairs(ctx.notes) do report:text("Note: " .. n .. ".") end
    if r.status == "done" then
      report:value(task.id, {selected = ctx.selected, cutoff = ctx.cut, best_options = ctx.tuned and ctx.tuned.best.options,
        discrimination = ctx.discrimination, delong = ctx.delong, classes = ctx.classes, ovr = ctx.ovr,
        per_class = ctx.per_class, calibration = ctx.calibration, survival = ctx.survival, patients = ctx.counts,
        concordance = ctx.concordance, time_dependent = ctx.time_dependent,
        cutpoint = ctx.cutpoint, riskgroups = ctx.riskgroups,
        shap_ranking = ctx.importance, validation = ctx.validation,
        baseline = ctx.baseline and ctx.baseline.sets})
      local rows, columns = {}, {"set", "id", "score"}
      if ctx.classes then                        -- a multiclass task: one probability per class
        columns = {"set", "id"}
        for _, c in ipairs(ctx.classes) do columns[#columns + 1] = "p_" .. c end
      end
      for _, set in ipairs(ctx.sets) do
        for i = 1, #set.y do
          local row = {set.name, set.ids[set.d.rows[i]]}
          if ctx.classes then
            for k = 1, #ctx.classes do row[#row + 1] = set.score:get(i, k) end
          else
            row[3] = set.score[i]
          end
          rows[#rows + 1] = row
        end
      end
      predictions[#predictions + 1] = {task.id, rows, columns}
    end
    r.cut = ctx.cut
    r.ctx = ctx
    result.tasks[#result.tasks + 1] = r
  end

  -- the status of every task, at the top of the report (after Methods)
  local status_rows = {}
  for _, r in ipairs(result.tasks) do
    status_rows[#status_rows + 1] = {task = r.id, title = r.title, status = r.status, reason = r.reason or ""}
  end
  report:section("Tasks")
  report:table(status_rows, {name = "tasks", columns = {"task", "title", "status", "reason"},
    caption = "Every task of the study: done, skipped (with the reason) or failed (with the error)"})
  local moved = {table.remove(report.blocks), table.remove(report.blocks)}
  table.insert(report.blocks, summary_at, moved[2])
  table.insert(report.blocks, summary_at + 1, moved[1])
  report:value("tasks", status_rows)
  if spec.validation and spec.validation.method == "bootstrap" then
    report:section("TRIPOD+AI checklist")
    report:table(M.tripod(spec, result), {name = "tripod_ai", columns = {"topic", "where"},
      caption = "Where this report answers the topics of the TRIPOD+AI checklist (Collins et al., BMJ 2024), or \"not addressed\""})
  end

  if logf then logf("writing the report") end
  if opts.write ~= false then
    local formats = {"md", "html", "json", "csv", "svg"}
    if spec.xlsx then formats[#formats + 1] = "xlsx" end
    report:write(out, {formats = formats})
    if spec.figures then
      -- the manuscript's figure files beside the SVGs: figures = {formats =,
      -- dpi =, width_mm =} (sv.plot.save_all)
      local figs = {}
      for _, b in ipairs(report.blocks) do
        if b.type == "figure" then figs[b.name] = b.svg end
      end
      if logf then logf("writing the figures for print") end
      sv.plot.save_all(figs, out .. "/figures", spec.figures)
    end
    for _, p in ipairs(predictions) do
      sv.write_atomic(out .. "/tables/" .. p[1] .. "_predictions.csv",
        sv.report.csv({columns = p[3], rows = p[2]}))
    end
    -- a model bundle (and its model card) per done task: docs/scoring.md
    for _, r in ipairs(result.tasks) do
      if r.status == "done" then                 -- every kind: binary, multiclass (K classes), survival (risk)
        sv.bundle._mkdir(out .. "/models")
        -- a bundle that cannot be written is said, never skipped silently
        local ok_b, err_b = pcall(function()
          sv.bundle.write(out .. "/models/" .. r.id .. ".svm", sv.bundle.from_study(r.ctx))
        end)
        if not ok_b then
          r.bundle_error = tostring(err_b)
          io.stderr:write(("study: %s: no model bundle written: %s\n"):format(r.id, r.bundle_error))
        end
        -- the model updated for each external centre where Vergouwe's closed
        -- test chose an update (the `update` step): a bundle of its own,
        -- models/<task>_<centre>.svm, that scores that centre's patients
        -- with the recalibration applied (docs/centres.md)
        if ok_b and r.ctx.updates then
          local centres = {}
          for centre in pairs(r.ctx.updates) do centres[#centres + 1] = centre end
          table.sort(centres)
          r.updated_bundles = {}
          for _, centre in ipairs(centres) do
            local u = r.ctx.updates[centre]
            if u.choice == "intercept" or u.choice == "recalibration" then
              local path = ("%s/models/%s_%s.svm"):format(out, r.id, (centre:gsub("[^%w%-]+", "_")))
              local ok_u, err_u = pcall(function()
                local b = sv.bundle.from_study(r.ctx)
                b.recalibration = {
                  method = u.choice, centre = centre,
                  intercept = u.choice == "intercept" and u.intercept.a or u.recalibration.a,
                  slope = u.choice == "intercept" and 1 or u.recalibration.b,
                  -- the update was fitted on scores kept half a tree's vote from 0 and 1
                  clip = 1 / (2 * ((spec.model and spec.model.trees) or 500)),
                }
                sv.bundle.write(path, b)
              end)
              if ok_u then
                r.updated_bundles[centre] = path
              else
                io.stderr:write(("study: %s: no updated bundle for %s: %s\n"):format(r.id, centre, tostring(err_u)))
              end
            end
          end
        end
      end
    end
  end
  result.centres_failed = failed_centres
  result.report = report
  result.seconds = sv.clock() - t0
  return result
end

--- sv.study.tripod(spec, result) -> rows {topic =, where =}: where the
--- report answers each topic of the TRIPOD+AI checklist (Collins et al.,
--- BMJ 2024) that a study run can answer, or "not addressed"
function M.tripod(spec, result)
  spec = M.spec(spec)
  local ids, kinds = {}, {}
  for _, r in ipairs(result.tasks or {}) do ids[#ids + 1] = r.id; kinds[#ids] = r.kind end
  -- a survival task has its own tables: its discrimination is TASK_concordance
  -- and TASK_time_dependent; it has no grid, selection or baseline
  local SURV = {_patients = "_patients", _table1 = "_table1", _discrimination = "_concordance, %s_time_dependent"}
  local function tables(suffix)
    local t = {}
    for k, id in ipairs(ids) do
      if kinds[k] ~= "survival" then t[#t + 1] = id .. suffix
      elseif SURV[suffix] then t[#t + 1] = id .. SURV[suffix]:format(id) end
    end
    return table.concat(t, ", ")
  end
  local boot = spec.validation and spec.validation.method == "bootstrap"
  local iecv = spec.validation and spec.validation.method == "iecv"
  local NA = "not addressed"
  return {
    {topic = "Data sources, centres and participants", where = "Methods; tables " .. tables("_patients")},
    {topic = "Outcome definition (levels of each task)", where = "Tasks; tables " .. tables("_patients")},
    {topic = "Predictors and their preparation", where = "Methods (encodings); Table 1: " .. tables("_table1")},
    {topic = "Missing data and their handling", where = "Methods (imputation fitted on training rows only); " .. tables("_patients")},
    {topic = "Sample size justification", where = NA .. " (sv.validate.sample_size gives Riley et al.'s minimum)"},
    {topic = "Model building: tuning and feature selection", where = "Methods; tables " .. tables("_grid") .. ", " .. tables("_selection")},
    {topic = "Internal validation of all model-building steps",
     where = boot and ("bootstrap (B = %d): tables %s"):format(spec.validation.B or 200, tables("_validation"))
       or "single split only (Methods); " .. NA .. " by resampling (validation = {method = \"bootstrap\"})"},
    {topic = "Discrimination with confidence intervals", where = "tables " .. tables("_discrimination")},
    {topic = "Calibration", where = "calibration figures of the test sets" ..
       (boot and ("; slope and calibration-in-the-large in " .. tables("_validation")) or "")},
    {topic = "Clinical utility (decision curves)", where = "decision-curve figures of the test sets"},
    {topic = "Comparison with a simpler model", where = spec.baseline == false
       and ("all-feature vs selected forest (DeLong); " .. NA .. " against a regression baseline")
       or ("logistic regression on the selected features: tables %s, %s"):format(tables("_logistic"), tables("_baseline"))},
    {topic = "Model stability", where = boot and ("prediction instability and selection-frequency figures (%s)"):format(tables("_instability")) or NA},
    {topic = "External or internal-external validation",
     where = (#spec.external > 0 and "external sets in " .. tables("_discrimination") or NA) ..
       (iecv and "; internal-external cross-validation by centre" or "")},
    {topic = "Explainability", where = "SHAP figures of each task"},
    {topic = "Fairness across subgroups", where = NA},
    {topic = "Reproducibility: code, seeds, inputs", where = "this report's provenance (spec, seed, input checksums, sylva version)"},
  }
end

--- sv.study.print(result): the key numbers of each task on the terminal
function M.print(result)
  if type(result) ~= "table" or type(result.tasks) ~= "table" then
    error("bad argument #1 to 'study.print' (a result of sv.study.run expected)", 2)
  end
  local w = 9
  for _, r in ipairs(result.tasks) do for _, s in ipairs(r.sets or {}) do w = math.max(w, #s.name) end end
  print(("%-6s %-" .. w .. "s %5s  %-16s %6s %6s %6s"):format("task", "set", "n", "AUC (95% CI)", "sens", "spec", "acc"))
  for _, r in ipairs(result.tasks) do
    if r.status ~= "done" then
      print(("%-6s %s: %s"):format(r.id, r.status, r.reason))
    else
      for _, d in ipairs(r.kind == "survival" and {} or r.ctx.discrimination) do
        if d.auc and not d.sensitivity then    -- a multiclass task: M and its bootstrap CI
          print(("%-6s %-" .. w .. "s %5d  %.2f (%.2f-%.2f)  (Hand-Till M)"):format(r.id, d.set, d.n,
            d.auc, d.auc_lo, d.auc_hi))
        elseif d.auc then
          print(("%-6s %-" .. w .. "s %5d  %.2f (%.2f-%.2f) %6.2f %6.2f %6.2f"):format(r.id, d.set, d.n,
            d.auc, d.auc_lo, d.auc_hi, d.sensitivity, d.specificity, d.accuracy))
        else
          print(("%-6s %-" .. w .. "s %5d  (one class)"):format(r.id, d.set, d.n))
        end
      end
      for _, d in ipairs(r.kind == "survival" and r.ctx.concordance or {}) do
        if d.harrell_c then
          print(("%-6s %-" .. w .. "s %5d  C %.2f (%.2f-%.2f), Uno's C %.2f, %d events"):format(r.id, d.set, d.n,
            d.harrell_c, d.harrell_lo, d.harrell_hi, d.uno_c, d.events))
        else
          print(("%-6s %-" .. w .. "s %5d  (%d events)"):format(r.id, d.set, d.n, d.events))
        end
      end
      local v = r.validation
      if v then
        print(("%-6s bootstrap (B = %d, %d failed): AUC apparent %.3f, optimism %.3f, corrected %.3f; slope corrected %.2f"):format(
          r.id, v.B, v.failed, v.apparent.auc, v.optimism.auc, v.corrected.auc, v.corrected.slope))
      end
      local s = r.ctx.survival
      if s and s.hr then
        print(("%-6s %s high vs low score: log-rank p = %.3g, HR %.2f (%.2f-%.2f)"):format(r.id,
          r.ctx.spec.survival.abbrev or "survival", s.logrank_p, s.hr, s.hr_lo, s.hr_hi))
      end
    end
  end
end

local USAGE = "usage: sylva study SPEC.lua [--out DIR] [--threads N] [--quick] [--bootstrap B]"

--- sv.study.cli(args) -> true when no task failed (the `sylva study` command)
function M.cli(args)
  local spec_path, opts = nil, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--out" or a == "--threads" or a == "--bootstrap" then
      local v = args[i + 1]
      if v == nil then error(("sylva study: %s needs a value\n%s"):format(a, USAGE), 0) end
      if a == "--out" then opts.out = v
      elseif a == "--bootstrap" then
        opts.bootstrap = math.tointeger(tonumber(v))
        if not opts.bootstrap or opts.bootstrap < 1 then
          error(("sylva study: --bootstrap must be a whole number >= 1, got '%s'"):format(v), 0)
        end
      else
        opts.threads = math.tointeger(tonumber(v))
        if not opts.threads or opts.threads < 0 then
          error(("sylva study: --threads must be a whole number >= 0, got '%s'"):format(v), 0)
        end
      end
      i = i + 2
    elseif a == "--quick" then
      opts.quick = true
      i = i + 1
    elseif a == "-h" or a == "--help" then
      print(USAGE)
      return true
    elseif a:sub(1, 1) == "-" then
      error(("sylva study: unknown option '%s'\n%s"):format(a, USAGE), 0)
    elseif spec_path then
      error(("sylva study: one spec file expected, got '%s' and '%s'\n%s"):format(spec_path, a, USAGE), 0)
    else
      spec_path = a
      i = i + 1
    end
  end
  if not spec_path then error(USAGE, 0) end
  -- an error before or after the tasks (a spec or data problem, a report
  -- that cannot be written) is printed as a message, without a traceback
  local ok_run, result = pcall(M.run, spec_path, opts)
  if not ok_run then
    local msg = tostring(result)
    if msg:find("interrupted!?$") then msg = "interrupted" end
    io.stderr:write("sylva study: ", msg, "\n")
    return false
  end
  print()
  M.print(result)
  local failed = 0
  for _, r in ipairs(result.tasks) do if r.status == "failed" then failed = failed + 1 end end
  for _, f in ipairs(result.centres_failed or {}) do
    print(("centre '%s' FAILED to load (left out of every task): %s"):format(f.name, f.error))
    failed = failed + 1
  end
  local out = result.out
  local ok, dir = pcall(function() return require("lfs").currentdir() end)
  if out:sub(1, 1) ~= "/" and ok and dir then out = dir .. "/" .. out end
  print(("\nreport: %s/report.html (%.1f s)"):format(out, result.seconds))
  return failed == 0
end

return M
