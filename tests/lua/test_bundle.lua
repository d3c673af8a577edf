-- test_bundle.lua - model bundles (.svm) and `sylva score`.
-- Oracles: the study's own predictions file (tables/<task>_predictions.csv,
-- written by the study from the forest in memory) for the external centre;
-- a hand-built logistic model; every damaged copy of a small bundle.
local T = require "testing"
local sv = require "sylva"

local root, tmp = T.root, T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"
os.execute(("mkdir -p %q"):format(tmp))

local function sh(cmd)
  local p = assert(io.popen("( " .. cmd .. " ) 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function read_csv_rows(path)
  local rows, head = {}, nil
  for line in io.lines(path) do
    local t = {}
    for cell in (line .. ","):gmatch("([^,]*),") do t[#t + 1] = cell end
    if not head then head = t else
      local r = {}
      for j, h in ipairs(head) do r[h] = t[j] end
      rows[#rows + 1] = r
    end
  end
  return rows, head
end

-- The HER2 demo study, quick (fewer trees), into a scratch folder.
local out = tmp .. "/bundle_her2"
os.execute(("rm -rf %q"):format(out))
local result = sv.study.run(root .. "/examples/her2/study.lua", {quick = true, out = out, log = false, threads = 1})
local enc2 = root .. "/examples/her2/encodings/center2.lua"
local data2 = root .. "/examples/her2/data/center2.csv"

local function study_scores(task, set)
  local by = {}
  for _, r in ipairs(read_csv_rows(("%s/tables/%s_predictions.csv"):format(out, task))) do
    if r.set == set then by[r.id] = tonumber(r.score) end
  end
  return by
end

T.test("the study writes a bundle and a model card (md, html) per done task", function()
  for _, task in ipairs({"task1", "task2"}) do
    for _, ext in ipairs({".svm", ".card.md", ".card.html"}) do
      local f = io.open(out .. "/models/" .. task .. ext, "rb")
      T.ok(f ~= nil, task .. ext)
      if f then f:close() end
    end
    local md = T.read_file(out .. "/models/" .. task .. ".card.md")
    for _, h in ipairs({"## Intended use", "## Development data", "## Performance", "## Calibration",
                        "## Known limits", "## TRIPOD+AI items covered"}) do
      T.ok(md:find(h, 1, true) ~= nil, task .. " card has " .. h)
    end
    -- the card's AUCs are the study's
    for _, s in ipairs(result.tasks[task == "task1" and 1 or 2].sets) do
      if s.auc then
        T.ok(md:find(("%.3f (%.3f–%.3f)"):format(s.auc, s.lo, s.hi), 1, true) ~= nil, task .. " card AUC of " .. s.name)
      end
    end
  end
end)

T.test("bundle scores of the external centre equal the study's predictions to 1e-12", function()
  for _, task in ipairs({"task1", "task2"}) do
    local b = sv.bundle.load(out .. "/models/" .. task .. ".svm")
    local res = b:score(data2, {encoding = enc2, id = "ID"})
    local want = study_scores(task, "external")
    local n = 0
    for i = 1, res.n do
      local w = want[res.ids[i]]
      if w then
        n = n + 1
        T.near(res.score[i], w, 1e-12, task .. " patient " .. res.ids[i])
        T.eq(res.group[i], res.score[i] >= b.cutoff and "high" or "low")
      end
    end
    local m = 0
    for _ in pairs(want) do m = m + 1 end
    T.eq(n, m, task .. ": every external patient of the study is scored")
    T.ok(n > 50, task .. " external patients: " .. n)
  end
end)

T.test("the model updated for the external centre is a bundle that scores as update().apply, to 1e-12", function()
  local n_checked = 0
  for k, task in ipairs({"task1", "task2"}) do
    local r = result.tasks[k]
    for centre, u in pairs(r.ctx.updates or {}) do
      local path = r.updated_bundles and r.updated_bundles[centre]
      if u.choice == "none" then
        T.ok(path == nil, task .. ": no updated bundle when the closed test keeps the model")
      else
        T.ok(path ~= nil, task .. ": an updated bundle for " .. centre)
        local b = sv.bundle.load(path)
        T.eq(b.recalibration.method, u.choice)
        T.eq(b.recalibration.centre, centre)
        local res = b:score(data2, {encoding = enc2, id = "ID"})
        -- the study's scores, moved as the update step moved them, then updated
        local want = study_scores(task, "external")
        local eps = b.recalibration.clip
        local ids, p = {}, {}
        for i = 1, res.n do
          local w = want[res.ids[i]]
          if w then ids[#ids + 1] = i; p[#p + 1] = math.min(math.max(w, eps), 1 - eps) end
        end
        local expect = u.apply(p)
        for j, i in ipairs(ids) do T.near(res.score[i], expect[j], 1e-12, task .. " patient " .. res.ids[i]) end
        T.ok(#ids > 50)
        n_checked = n_checked + 1
        T.ok(T.read_file(path:gsub("%.svm$", ".card.md")):find("recalibrat", 1, true) ~= nil, "the card says so")
      end
    end
  end
  T.ok(n_checked >= 1, "the demo's external centre gets an update in at least one task")
end)

T.test("sylva score, sv.bundle.load():score() and a stock lua5.4 give the same scores", function()
  local svm = out .. "/models/task1.svm"
  local csv = tmp .. "/bundle_scored.csv"
  os.remove(csv)
  local o, ok = sh(("%q score %q %q --encoding %q --id ID --explain 3 --out %q"):format(bin, svm, data2, enc2, csv))
  T.ok(ok, o)
  local rows, head = read_csv_rows(csv)
  T.eq(head[1], "id")
  T.eq(head[#head], "outside_training_range")
  T.ok(#head == 3 + 9 + 1, "id, score, group, 3 x (feature, value, shap), outside_training_range")
  local res = sv.bundle.load(svm):score(data2, {encoding = enc2, id = "ID", explain = true})
  T.eq(#rows, res.n)
  for i, r in ipairs(rows) do
    T.eq(r.id, res.ids[i])
    T.eq(tonumber(r.score), res.score[i], "CLI score printed with 17 digits")
    -- SHAP: the shown contributions are the largest in |phi|, and all of them add up to score - base
    local phi = res.phi:row(i)
    local sum = res.base
    local maxabs = 0
    for j = 1, #phi do sum = sum + phi[j]; maxabs = math.max(maxabs, math.abs(phi[j])) end
    T.near(sum, res.score[i], 1e-9, "SHAP adds up to the score")
    T.near(math.abs(tonumber(r.shap_1)), maxabs, 1e-15, "shap_1 is the largest")
  end
  local module = os.getenv("SYLVA_MODULE")
  if module and sh("command -v lua5.4") ~= "" then
    local script = tmp .. "/bundle_stock.lua"
    write(script, ([[
local sv = require "sylva"
local res = sv.bundle.load(%q):score(%q, {encoding = %q, id = "ID"})
for i = 1, res.n do io.write(res.ids[i], ",", ("%%.17g"):format(res.score[i]), "\n") end
]]):format(svm, data2, enc2))
    local dir = module:match("^(.*)/[^/]*$")
    -- a sanitizer build's sylva.so loads into an uninstrumented lua5.4 only
    -- with the ASan runtime preloaded (as test_install.lua does)
    local pre = ""
    if sh(("readelf -d %q"):format(module)):find("libasan", 1, true) then
      local asan = sh("gcc -print-file-name=libasan.so"):gsub("%s+$", "")
      local ubsan = sh("gcc -print-file-name=libubsan.so"):gsub("%s+$", "")
      pre = ("LD_PRELOAD=%q ASAN_OPTIONS=detect_leaks=0 "):format(asan .. ":" .. ubsan)
    end
    local o2, ok2 = sh(("%sLUA_CPATH=%q lua5.4 %q"):format(pre, dir .. "/?.so;;", script))
    do
      T.ok(ok2, o2)
      local k = 0
      for id, s in o2:gmatch("([^,\n]+),([^\n]+)") do
        k = k + 1
        T.eq(id, res.ids[k])
        T.eq(tonumber(s), res.score[k], "stock lua5.4 score of " .. id)
      end
      T.eq(k, res.n)
    end
  else
    print("skipping the stock lua5.4 comparison: lua5.4 or SYLVA_MODULE not available")
  end
end)

T.test("the K largest contributions of --explain equal those of a full sort (ties to the lower column)", function()
  local top_k = sv.bundle._top_k
  local function by_sort(row, k)
    local idx = {}
    for j = 1, #row do idx[j] = j end
    table.sort(idx, function(a, b)
      local x, y = math.abs(row[a]), math.abs(row[b])
      if x ~= y then return x > y end
      return a < b
    end)
    local out = {}
    for m = 1, math.min(k, #idx) do out[m] = idx[m] end
    return out
  end
  for trial = 1, 5000 do
    local r = sv.rng(3, trial)
    local p = 1 + math.floor(r:uniform() * 9)
    local row = {}
    -- few distinct magnitudes and both signs: many ties
    for j = 1, p do row[j] = (math.floor(r:uniform() * 5) - 2) * (r:uniform() < 0.3 and 1 or 0.5) end
    local k = 1 + math.floor(r:uniform() * (p + 2))
    local got, want = top_k(row, k), by_sort(row, k)
    T.eq(#got, #want)
    for m = 1, #want do T.eq(got[m], want[m], ("trial %d, rank %d"):format(trial, m)) end
  end
end)

T.test("--html writes one page per patient with a waterfall and a sentence", function()
  local dir = tmp .. "/bundle_html"
  os.execute(("rm -rf %q"):format(dir))
  local o, ok = sh(("%q score %q %q --encoding %q --id ID --html %q --out %q"):format(bin,
    out .. "/models/task1.svm", data2, enc2, dir, tmp .. "/bundle_html.csv"))
  T.ok(ok, o)
  local page = T.read_file(dir .. "/GZ-001.html")
  T.ok(page:find("<svg", 1, true) ~= nil, "the page has the waterfall figure")
  T.ok(page:find("the probability by 0.", 1, true) ~= nil, "a plain sentence: " .. page:sub(1, 400))
  T.ok(T.read_file(dir .. "/index.html"):find("GZ-001.html", 1, true) ~= nil, "the index links the patients")
end)

-- A centre 2 encoding and data with one thing changed.
local function variant(enc_sub, data_sub)
  local e = T.read_file(enc2)
  local d = T.read_file(data2)
  if enc_sub then e = e:gsub(enc_sub[1], enc_sub[2], enc_sub[3] or 1) end
  if data_sub then d = data_sub(d) end
  local ep, dp = tmp .. "/bundle_variant_enc.lua", tmp .. "/bundle_variant.csv"
  write(ep, e)
  write(dp, d)
  return ep, dp
end

T.test("E-SCORE-FEATURE: a feature the model needs that the encoding lacks is an error naming it", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  local ep, dp = variant({"size_mm", "size_xx", 10})
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "needs feature 'size_mm'")
end)

T.test("E-SCORE-COLUMN: a column missing from the file is an error naming the column", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  local ep, dp = variant(nil, function(d) return (d:gsub("Size_cm", "Size", 1)) end)
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "Size_cm")
end)

T.test("E-SCORE-UNIT: a different unit is an error naming the column and both units", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  T.eq(b.units.size_mm, "mm")
  local ep, dp = variant({"label = \"Tumour size %(mm%)\"", "label = \"Tumour size (cm)\""})
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "feature 'size_mm' (column 'Size_cm' of " .. ep .. ") is in 'cm'; the model was developed in 'mm'")
end)

T.test("E-SCORE-LEVEL: an unknown category level is an error naming column, value and line", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  local ep, dp = variant(nil, function(d)
    local n = 0
    return (d:gsub("\n([^\n]-),Y,0,No,", function(pre)
      n = n + 1
      if n == 1 then return "\n" .. pre .. ",maybe,0,No," end
    end))
  end)
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "maybe")
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "bundle_variant.csv line 2, patient GZ-001")
  T.raises(function() b:score(dp, {encoding = ep, id = "ID"}) end, "Peritumoral_edema")
end)

T.test("E-SCORE-RANGE: values outside the training range are listed per patient, never silently", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  local r = b.training_range.size_mm
  T.ok(r and r[1] < r[2], "training range of size_mm stored")
  -- patient GZ-001: a size of 14.9 cm, inside the encoding's range (1-150 mm)
  -- but beyond the training data if the training maximum is below 149 mm
  local ep, dp = variant(nil, function(d) return (d:gsub("(GZ%-001,[^,]*,[^,]*,)[^,]*", "%114.9", 1)) end)
  local res = b:score(dp, {encoding = ep, id = "ID"})
  T.eq(res.ids[1], "GZ-001")
  if r[2] < 149 then
    T.ok(res.outside[1] ~= nil and res.outside[1][1] == "size_mm=149", tostring(res.outside[1] and res.outside[1][1]))
  end
  local text = sv.bundle.csv(b, res)
  T.ok(text:find("\nGZ%-001,[^\n]*,size_mm=149\n") ~= nil, "the CSV column lists it")
  T.eq(res.outside[2], nil)
end)

T.test("a model feature missing for most patients is counted (res.missing) and named by sylva score", function()
  local b = sv.bundle.load(out .. "/models/task1.svm")
  local has = false
  for _, nm in ipairs(b.selected) do has = has or nm == "size_mm" end
  T.ok(has, "task1's model uses size_mm")
  -- Size_cm (the 4th column) blank for every patient; one patient's age blank
  local ep, dp = variant(nil, function(d)
    local out_lines, k = {}, 0
    for line in d:gmatch("[^\n]+") do
      k = k + 1
      if k > 1 then
        line = line:gsub("^([^,]*,[^,]*,[^,]*,)[^,]*", "%1", 1)
        if k == 2 then line = line:gsub("^([^,]*,)[^,]*", "%1", 1) end
      end
      out_lines[#out_lines + 1] = line
    end
    return table.concat(out_lines, "\n") .. "\n"
  end)
  local res = b:score(dp, {encoding = ep, id = "ID"})
  local by = {}
  for _, m in ipairs(res.missing) do by[m.feature] = m.n end
  T.eq(by.size_mm, res.n, "every patient lacks size_mm")
  local msg, ok = sh(("%q score %q %q --encoding %q --id ID --out %q"):format(bin, out .. "/models/task1.svm", dp, ep,
    tmp .. "/bundle_missing.csv"))
  T.ok(ok, msg)
  T.ok(msg:find(("model feature 'size_mm' is missing for %d of %d patients"):format(res.n, res.n), 1, true), msg)
  T.ok(not msg:find("'age' is missing", 1, true), "one patient without age is not announced: " .. msg)
end)

---------------------------------------------------------------------------
-- Every task kind of the demo: task3 (multiclass: zero, low, positive) and
-- task4 (survival: a random survival forest of DFS)
---------------------------------------------------------------------------

local function task_result(id)
  for _, r in ipairs(result.tasks) do if r.id == id then return r end end
end

-- the study's rows of one set of tables/<task>_predictions.csv, by id
local function study_rows(task, set)
  local by, head = {}, nil
  local rows
  rows, head = read_csv_rows(("%s/tables/%s_predictions.csv"):format(out, task))
  for _, r in ipairs(rows) do if r.set == set then by[r.id] = r end end
  return by, head
end

T.test("the demo's multiclass and survival tasks are done and get a bundle and card, and no note says otherwise", function()
  T.eq(task_result("task3").kind, "multiclass")
  T.eq(task_result("task4").kind, "survival")
  for _, task in ipairs({"task3", "task4"}) do
    local r = task_result(task)
    T.eq(r.status, "done", task)
    T.eq(r.bundle_error, nil, task)
    for _, ext in ipairs({".svm", ".card.md", ".card.html"}) do
      local f = io.open(out .. "/models/" .. task .. ext, "rb")
      T.ok(f ~= nil, task .. ext)
      if f then f:close() end
    end
  end
  T.ok(not T.read_file(out .. "/report.md"):find("no model bundle", 1, true), "the report has no 'no model bundle' note")
end)

T.test("the multiclass card speaks of each class's probability and holds the study's M with its CI", function()
  local md = T.read_file(out .. "/models/task3.card.md")
  T.ok(md:find("Estimates, for each of the 3 classes of the outcome 'her2' (zero, low, positive), the probability", 1, true),
    md:sub(1, 500))
  T.ok(not md:find("probability that a patient is", 1, true), "not a binary card's sentence")
  T.ok(md:find("there is no cut-off", 1, true))
  local r = task_result("task3")
  local n = 0
  for _, s in ipairs(r.sets) do
    if s.auc then
      n = n + 1
      T.ok(md:find(("| %s | %d |"):format(s.name, s.n), 1, true), "row of " .. s.name)
      T.ok(md:find(("%.3f (%.3f–%.3f)"):format(s.auc, s.lo, s.hi), 1, true), "M of " .. s.name)
    end
  end
  T.eq(n, 3, "training, internal, external")
  -- per-class sensitivity from the study's table
  for _, pc in ipairs(r.ctx.per_class) do
    T.ok(md:find(("| %s | %s | %d | %.3f | %.3f |"):format(pc.set, pc.class, pc.n, pc.sensitivity, pc.specificity),
      1, true), "per-class row " .. pc.set .. " " .. pc.class)
  end
  T.ok(md:find("Item 12e: Performance measures: Hand and Till's multiclass AUC", 1, true))
  T.ok(T.read_file(out .. "/models/task3.card.html"):find("Hand and Till", 1, true) ~= nil)
end)

T.test("the survival card speaks of the risk, the time unit and holds the study's Harrell's C with its CI", function()
  local md = T.read_file(out .. "/models/task4.card.md")
  T.ok(md:find("Estimates a patient's risk (the random survival forest's ensemble mortality", 1, true), md:sub(1, 400))
  T.ok(not md:find("probability that a patient", 1, true) and not md:find("Estimates the probability", 1, true),
    "no probability sentence for a risk")
  T.ok(md:find("follow-up time 'dfs_months', in months", 1, true), "the time unit")
  T.ok(md:find("| time (months) |", 1, true), "the unit in the time-dependent header")
  local r = task_result("task4")
  for _, s in ipairs(r.sets) do
    T.ok(md:find(("| %s | %d | %d | %.3f (%.3f–%.3f) |"):format(s.name, s.n, s.events, s.c, s.lo, s.hi), 1, true),
      "Harrell's C of " .. s.name)
  end
  T.ok(md:find(("risk above %.6g"):format(r.cut), 1, true), "the cut-point")
  T.ok(md:find("Item 12e: Performance measures: Harrell's and Uno's C", 1, true))
end)

T.test("multiclass bundle: every class's probability of the external centre equals the study's to 1e-12", function()
  local b = sv.bundle.load(out .. "/models/task3.svm")
  local res = b:score(data2, {encoding = enc2, id = "ID"})
  local want, head = study_rows("task3", "external")
  local classes = {}
  for _, h in ipairs(head) do if h:match("^p_") then classes[#classes + 1] = h:sub(3) end end
  T.eq(table.concat(classes, ","), "zero,low,positive", "the study's class order")
  T.eq(table.concat(res.classes, ","), "zero,low,positive", "the bundle names the classes, not the codes 1..3")
  local n = 0
  for i = 1, res.n do
    local w = want[res.ids[i]]
    if w then
      n = n + 1
      local best, bp = nil, -1
      for k, c in ipairs(classes) do
        local p = tonumber(w["p_" .. c])
        T.near(res.probs:get(i, k), p, 1e-12, "task3 patient " .. res.ids[i] .. " p_" .. c)
        if p > bp then best, bp = c, p end
      end
      T.eq(res.group[i], best, "the predicted class of " .. res.ids[i])
      T.near(res.score[i], bp, 1e-12)
    end
  end
  local m = 0
  for _ in pairs(want) do m = m + 1 end
  T.eq(n, m, "every external patient of the study is scored")
  T.ok(n > 50, "external patients: " .. n)
end)

T.test("survival bundle: the risk of the external centre equals the study's to 1e-12, in the study's risk groups", function()
  local r = task_result("task4")
  local b = sv.bundle.load(out .. "/models/task4.svm")
  T.eq(b.model:kind(), "survival")
  T.eq(b.cutoff, r.cut)
  local res = b:score(data2, {encoding = enc2, id = "ID"})
  T.eq(res.measure, "risk")
  local want = study_rows("task4", "external")
  local n, high = 0, 0
  for i = 1, res.n do
    local w = want[res.ids[i]]
    if w then
      n = n + 1
      local risk = tonumber(w.score)
      T.near(res.score[i], risk, 1e-12, "task4 patient " .. res.ids[i])
      if res.group[i] == "high" then high = high + 1 else T.eq(res.group[i], "low") end
    end
  end
  local m = 0
  for _ in pairs(want) do m = m + 1 end
  T.eq(n, m, "every external patient of the study is scored")
  -- the study's own risk-group table of the external set
  local ext
  for _, g in ipairs(r.ctx.riskgroups) do if g.set == "external" then ext = g end end
  T.eq(high, ext.n_high, "as many high-risk patients as the study's risk-group table")
  T.eq(n - high, ext.n_low)
end)

T.test("sylva score --explain 2 on the multiclass and survival bundles writes their columns", function()
  for _, case in ipairs({
      {task = "task3", head = "id,score,group,p_zero,p_low,p_positive,feature_1,value_1,shap_1,feature_2,value_2,shap_2,outside_training_range"},
      {task = "task4", head = "id,score,group,feature_1,value_1,shap_1,feature_2,value_2,shap_2,outside_training_range"}}) do
    local svm = out .. "/models/" .. case.task .. ".svm"
    local csv = tmp .. "/bundle_scored_" .. case.task .. ".csv"
    os.remove(csv)
    local o, ok = sh(("%q score %q %q --encoding %q --id ID --explain 2 --out %q"):format(bin, svm, data2, enc2, csv))
    T.ok(ok, o)
    T.eq(T.read_file(csv):match("^[^\n]*"), case.head, case.task .. " header")
    local rows = read_csv_rows(csv)
    local res = sv.bundle.load(svm):score(data2, {encoding = enc2, id = "ID", explain = true})
    T.eq(#rows, res.n)
    for i, row in ipairs(rows) do
      T.eq(row.id, res.ids[i])
      T.eq(tonumber(row.score), res.score[i], case.task .. " score printed with 17 digits")
      T.eq(row.group, res.group[i])
      if res.classes then
        for k, c in ipairs(res.classes) do T.eq(tonumber(row["p_" .. c]), res.probs:get(i, k)) end
      end
      -- the two shown contributions are the two largest |phi|, and all add up to the score
      local phi = res.phi:row(i)
      local sum, a = res.bases and res.bases[i] or res.base, {}
      for j = 1, #phi do sum = sum + phi[j]; a[j] = math.abs(phi[j]) end
      table.sort(a, function(x, y) return x > y end)
      T.near(sum, res.score[i], 1e-9 * math.max(1, math.abs(res.score[i])), case.task .. " SHAP adds up to the score")
      T.near(math.abs(tonumber(row.shap_1)), a[1], 1e-15)
      T.near(math.abs(tonumber(row.shap_2)), a[2], 1e-15)
    end
  end
  local ex = sv.bundle.load(out .. "/models/task4.svm"):score(data2, {encoding = enc2, id = "ID", explain = true})
  local s = sv.bundle.sentence(sv.bundle.load(out .. "/models/task4.svm"), ex, 1, 2)
  T.ok(s:find("The model's average risk is", 1, true) and not s:find("probability", 1, true), s)
end)

T.test("E-BUNDLE-DAMAGED: a damaged multiclass or survival bundle is refused (the loader's checksum path)", function()
  for _, task in ipairs({"task3", "task4"}) do
    local good = T.read_file(out .. "/models/" .. task .. ".svm")
    local pos = #good // 2
    local dmg = tmp .. "/bundle_dmg_" .. task .. ".svm"
    write(dmg, good:sub(1, pos - 1) .. string.char(good:byte(pos) ~ 4) .. good:sub(pos + 1))
    T.raises(function() sv.bundle.load(dmg) end, "damaged or truncated")
  end
end)

---------------------------------------------------------------------------
-- A small bundle: round trip, logistic, damage at every byte
---------------------------------------------------------------------------

local small_enc = tmp .. "/bundle_small_enc.lua"
write(small_enc, [[return {centre = "S", id = "pid", features = {
  {name = "a", column = "A", kind = "numeric", label = "A (cm)"},
  {name = "g", column = "G", kind = "onehot", levels = {"u", "v", "w"}, label = "G"},
}, impute = {["*"] = "median", g = "mode"},
outcomes = {y = {column = "Y", kind = "binary", yes = {"1"}, no = {"0"}}}}
]])
local lines = {"pid,A,G,Y"}
for i = 1, 40 do
  lines[#lines + 1] = ("p%d,%s,%s,%d"):format(i, i % 7 == 0 and "" or tostring(i * 0.5),
    ({"u", "v", "w"})[i % 3 + 1], (i * 7) % 3 == 0 and 1 or 0)
end
local small_csv = tmp .. "/bundle_small.csv"
write(small_csv, table.concat(lines, "\n") .. "\n")

local function small_bundle(kind)
  local enc = sv.encode.load(small_enc)
  local d = sv.encode.apply(enc, sv.read_csv(small_csv))
  local imp = sv.encode.fit_imputer(d)
  local di = imp:apply(d)
  local y = d.outcomes.y
  local model
  if kind == "logistic" then model = sv.glm.logistic(di.X:cols({"a"}), y)
  else model = sv.forest.train(di.X:cols({"a", "g_v"}), y, {trees = 2, seed = 1, max_depth = 2}) end
  return sv.bundle.new({kind = kind, model = model, selected = kind == "logistic" and {"a"} or {"a", "g_v"},
    features = d.names, impute = imp.stats, levels = {g = {"u", "v", "w"}}, units = {a = "cm"},
    training_range = {a = {0.5, 20}}, cutoff = 0.5,
    encoding = {source = T.read_file(small_enc), path = "small.lua"}}), di
end

T.test("a forest bundle round-trips: same scores after save and load", function()
  local b, di = small_bundle("forest")
  local path = tmp .. "/bundle_small.svm"
  sv.bundle.save(path, b)
  local b2 = sv.bundle.load(path)
  local res = b2:score(small_csv, {encoding = small_enc})
  local want = b.model:predict(di.X:cols({"a", "g_v"}))
  for i = 1, res.n do T.eq(res.score[i], want[i]) end
  T.eq(b2.encoding.source, b.encoding.source)
  T.eq(b2.impute.a.value, b.impute.a.value)
  T.eq(res.ids[1], "p1")
end)

T.test("a logistic bundle scores as the hand-computed model", function()
  local b, di = small_bundle("logistic")
  local path = tmp .. "/bundle_logistic.svm"
  sv.bundle.save(path, b)
  local b2 = sv.bundle.load(path)
  local res = b2:score(small_csv, {encoding = small_enc})
  local c = b.model.coef
  for i = 1, res.n do
    local x = di.X:get(i, 1)
    T.near(res.score[i], 1 / (1 + math.exp(-(c[1] + c[2] * x))), 1e-14, "patient " .. i)
  end
end)

T.test("recalibration is applied: logit p' = a + b logit p", function()
  local b = small_bundle("logistic")
  local plain = b:score(small_csv, {encoding = small_enc})
  b.recalibration = {intercept = 0.3, slope = 0.8}
  local res = b:score(small_csv, {encoding = small_enc})
  for i = 1, res.n do
    local p = plain.score[i]
    T.near(res.score[i], 1 / (1 + math.exp(-(0.3 + 0.8 * math.log(p / (1 - p))))), 1e-12)
  end
end)

T.test("E-SCORE-LEVEL: an encoding whose levels differ from the model's is an error naming the level", function()
  local b = small_bundle("forest")
  local ep = tmp .. "/bundle_small_enc_z.lua"
  write(ep, (T.read_file(small_enc):gsub('"w"}', '"z"}')))
  local dp = tmp .. "/bundle_small_z.csv"
  write(dp, (T.read_file(small_csv):gsub(",w,", ",z,")))
  T.raises(function() b:score(dp, {encoding = ep}) end,
    "feature 'g' (column 'G' of " .. ep .. "): level 'z' is unknown to the model; the model knows the levels u, v, w")
end)

T.test("a bundle of a K = 3 forest: class probabilities, the predicted class, its explanation", function()
  local enc = sv.encode.load(small_enc)
  local d = sv.encode.apply(enc, sv.read_csv(small_csv))
  local imp = sv.encode.fit_imputer(d)
  local di = imp:apply(d)
  local y = {}
  for i = 1, d.n do y[i] = ({"lo", "mid", "hi"})[i % 3 + 1] end
  local f = sv.forest.train(di.X:cols({"a", "g_v"}), y, {trees = 5, seed = 3})
  local path = tmp .. "/bundle_k3.svm"
  sv.bundle.save(path, {model = f, selected = {"a", "g_v"}, impute = imp.stats,
    encoding = {source = T.read_file(small_enc), path = "small.lua"}})
  local b = sv.bundle.load(path)
  local res = b:score(small_csv, {encoding = small_enc, explain = true})
  local P = f:predict(di.X:cols({"a", "g_v"}))
  local classes = f:classes()
  for i = 1, res.n do
    local k = 1
    for c = 2, 3 do if P:get(i, c) > P:get(i, k) then k = c end end
    T.eq(res.group[i], classes[k], "predicted class of patient " .. i)
    T.eq(res.score[i], P:get(i, k))
    for c = 1, 3 do T.eq(res.probs:get(i, c), P:get(i, c)) end
    local phi = res.phi:row(i)
    T.near(res.bases[i] + phi[1] + phi[2], P:get(i, k), 1e-12, "SHAP adds up to the predicted class's probability")
  end
  local text = sv.bundle.csv(b, res, 1)
  T.ok(text:find("^id,score,group,p_" .. classes[1] .. ",p_" .. classes[2] .. ",p_" .. classes[3] ..
    ",feature_1,value_1,shap_1,outside_training_range\n") ~= nil, text:sub(1, 120))
end)

T.test("a bundle of a survival forest: risk = the forest's ensemble mortality, grouped at the cut-off", function()
  local enc = sv.encode.load(small_enc)
  local d = sv.encode.apply(enc, sv.read_csv(small_csv))
  local imp = sv.encode.fit_imputer(d)
  local di = imp:apply(d)
  local X = di.X:cols({"a", "g_v"})
  local time, event = {}, {}
  for i = 1, d.n do
    time[i] = 30 - X:get(i, 1) + (i % 5)
    event[i] = i % 4 == 0 and 0 or 1
  end
  local f = sv.forest.survival(X, time, event, {trees = 6, seed = 2, min_leaf = 3})
  local risk = f:predict(X)
  local sorted = risk:totable()
  table.sort(sorted)
  local cut = sorted[#sorted // 2]
  local path = tmp .. "/bundle_surv.svm"
  sv.bundle.save(path, {model = f, selected = {"a", "g_v"}, impute = imp.stats, cutoff = cut,
    groups = {"high risk", "low risk"}, encoding = {source = T.read_file(small_enc), path = "small.lua"}})
  local b = sv.bundle.load(path)
  T.eq(b.model:kind(), "survival")
  local res = b:score(small_csv, {encoding = small_enc})
  T.eq(res.n, d.n)
  local highs = 0
  for i = 1, res.n do
    T.eq(res.score[i], risk[i], "risk of patient " .. i .. " is the trained forest's, bit for bit")
    T.eq(res.group[i], risk[i] >= cut and "high risk" or "low risk", "group of patient " .. i)
    if res.group[i] == "high risk" then highs = highs + 1 end
  end
  T.ok(highs > 0 and highs < res.n, "both groups occur")
  -- the loaded forest's curves are the trained one's
  local grid = f:times()
  T.eq(b.model:survival(X, grid):get(3, 5), f:survival(X, grid):get(3, 5))
  -- explained: TreeSHAP of the risk adds up to it, and the sentence says risk
  local ex = b:score(small_csv, {encoding = small_enc, explain = true})
  for i = 1, ex.n do
    local phi = ex.phi:row(i)
    T.near(ex.base + phi[1] + phi[2], risk[i], 1e-9 * math.max(1, risk[i]), "SHAP adds up to the risk of " .. i)
  end
  local s = sv.bundle.sentence(b, ex, 1, 1)
  T.ok(s:find("The model's average risk is", 1, true) and s:find("the risk by", 1, true) and
    not s:find("probability", 1, true), s)
  -- the model card says what the score is
  local card = sv.bundle.card_markdown(b)
  T.ok(card:find("Estimates a patient's risk (the random survival forest's ensemble mortality", 1, true) ~= nil and
    not card:find("Estimates the probability", 1, true), card:sub(1, 400))
end)

T.test("E-BUNDLE-SURV-RECAL: a recalibration with a survival forest is refused", function()
  local X = sv.matrix({{1, 0}, {2, 1}, {3, 0}, {4, 1}, {5, 0}, {6, 1}, {7, 0}, {8, 1}}, {"a", "g_v"})
  local f = sv.forest.survival(X, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 0, 1, 1, 0, 1, 1}, {trees = 2, seed = 1})
  T.raises(function()
    sv.bundle.new({model = f, selected = {"a", "g_v"}, recalibration = {intercept = 0, slope = 1},
      encoding = {source = "", path = "e.lua"}})
  end, "a recalibration applies to probabilities, not to a survival forest's risk")
end)

T.test("E-BUNDLE-CUTOFF-RULE: a cut-off rule other than >= or > is refused; > puts a score equal to the cut-off low", function()
  local b = small_bundle("logistic")
  local t = {}
  for k, v in pairs(b) do t[k] = v end
  local res = b:score(small_csv, {encoding = small_enc})
  t.cutoff = res.score[1]
  t.cutoff_rule = "<"
  T.raises(function() sv.bundle.new(t) end, 'bundle.new: cutoff_rule must be ">=" or ">", got <')
  t.cutoff_rule = ">"
  local strict = sv.bundle.new(t):score(small_csv, {encoding = small_enc})
  t.cutoff_rule = nil
  local at_or_above = sv.bundle.new(t):score(small_csv, {encoding = small_enc})
  T.eq(strict.group[1], "low", "a score equal to the cut-off is not above it")
  T.eq(at_or_above.group[1], "high", "but it is at it")
  for i = 1, res.n do
    T.eq(strict.group[i], res.score[i] > t.cutoff and "high" or "low")
    T.eq(at_or_above.group[i], res.score[i] >= t.cutoff and "high" or "low")
  end
end)

T.test("E-BUNDLE-DAMAGED: every damaged or truncated copy of a bundle is refused with an error", function()
  local b = small_bundle("forest")
  local path = tmp .. "/bundle_dmg_src.svm"
  sv.bundle.save(path, b)
  local good = T.read_file(path)
  T.ok(#good < 20000, "small bundle: " .. #good .. " bytes")
  local dmg = tmp .. "/bundle_dmg.svm"
  local accepted = {}
  for pos = 1, #good do
    for _, s in ipairs({
        good:sub(1, pos - 1) .. string.char(good:byte(pos) ~ 1) .. good:sub(pos + 1),   -- one bit flipped
        good:sub(1, pos - 1)}) do                                                      -- truncated
      write(dmg, s)
      local ok, err = pcall(sv.bundle.load, dmg)
      if ok or not tostring(err):find(dmg, 1, true) then accepted[#accepted + 1] = pos end
    end
  end
  T.eq(#accepted, 0, "accepted damaged copies at bytes " .. table.concat(accepted, ", ", 1, math.min(#accepted, 10)))
  write(dmg, good .. "x")
  T.raises(function() sv.bundle.load(dmg) end, "damaged or truncated")
end)

T.test("E-BUNDLE-VERSION, E-BUNDLE-NOT-BUNDLE: a newer format version, a file that is not a bundle", function()
  local b = small_bundle("forest")
  local path = tmp .. "/bundle_future.svm"
  sv.bundle.save(path, b)
  local s = T.read_file(path):gsub("\nversion 1\n", "\nversion 7\n", 1)
  write(path, s)
  T.raises(function() sv.bundle.load(path) end, "format version 7 is newer")
  write(path, "hello")
  T.raises(function() sv.bundle.load(path) end, "not a model bundle")
end)

T.test("the payload parser never runs code and rejects what it did not write", function()
  local v = {1, 2.5, "x\0y", true, false, {a = 0 / 0, b = math.huge, [3] = -0.0}}
  local back = sv.bundle._decode(sv.bundle._encode(v))
  T.eq(back[1], 1)
  T.eq(math.type(back[1]), "integer")
  T.eq(back[2], 2.5)
  T.eq(back[3], "x\0y")
  T.eq(back[4], true)
  T.eq(back[5], false)
  T.ok(back[6].a ~= back[6].a and back[6].b == math.huge, "NaN and inf kept")
  for _, bad in ipairs({"", "s5:ab", "t2;i1;", "n0x1p+0", "q", "i1;i2;", "t99999999999;"}) do
    T.eq((sv.bundle._decode(bad)), nil, "rejects " .. bad)
  end
end)

T.done()
