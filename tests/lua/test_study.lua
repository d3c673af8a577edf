-- test_study.lua - the study runner (sv.study.run, `sylva study`) on a small
-- synthetic two-centre cohort written here, whose counts are known by
-- construction: a task that runs, a task with no patients and one with one
-- class only (both "skipped"), a task naming an outcome the encoding lacks
-- ("failed"), patients with a missing outcome or follow-up (left out and
-- counted), and the report written in every case.
local T = require "testing"
local sv = require "sylva"

local bin = os.getenv("SYLVA_BIN") or "sylva"
local dir = T.tmp .. "/study_test"
os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- A cohort with a real signal: the outcome depends on size and nodes.
-- Rows 1..MISSING_Y of the development centre have no outcome, rows
-- 1..MISSING_T of every centre no follow-up time.
local MISSING_Y, MISSING_T = 10, 3
local function cohort(path, n, seed)
  local r = sv.rng(seed)
  local lines = {"Patient ID,Age at diagnosis,Tumour size (mm),Grade,Nodes,Response,Subtype,Never,Months,Event"}
  for i = 1, n do
    local age = r:integer(30, 80)
    local size = r:integer(5, 60)
    local grade = r:integer(1, 3)
    local nodes = r:uniform() < 0.4 and "yes" or "no"
    local lp = -2 + 0.05 * size + (nodes == "yes" and 1 or 0) + 0.3 * (grade - 2)
    local y = r:uniform() < 1 / (1 + math.exp(-lp)) and "yes" or "no"
    if seed == 1 and i <= MISSING_Y then y = "" end
    local months = ("%.1f"):format(r:uniform(1, 120))
    if i <= MISSING_T then months = "" end
    local event = r:uniform() < (y == "yes" and 0.5 or 0.2) and 1 or 0
    lines[#lines + 1] = ("P%03d,%d,%d,%d,%s,%s,A,,%s,%d"):format(i, age, size, grade, nodes, y, months, event)
  end
  write(path, table.concat(lines, "\n") .. "\n")
end
cohort(dir .. "/dev.csv", 300, 1)
cohort(dir .. "/ext.csv", 150, 2)

write(dir .. "/enc.lua", [[
return {
  centre = "Synthetic",
  features = {
    {name = "age", column = "Age at diagnosis", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "size", column = "Tumour size (mm)", kind = "numeric", range = {1, 200}, label = "Size (mm)"},
    {name = "grade", column = "Grade", kind = "ordinal", levels = {{"1"}, {"2"}, {"3"}}, label = "Grade"},
    {name = "nodes", column = "Nodes", kind = "binary", yes = {"yes"}, no = {"no"}, label = "Nodes"},
  },
  impute = {["*"] = "median"},
  outcomes = {
    response = {column = "Response", kind = "binary", yes = {"yes"}, no = {"no"}, label = "Response"},
    subtype = {column = "Subtype", kind = "category", levels = {A = {"A"}, B = {"B"}}, order = {"A", "B"}},
    never = {column = "Never", kind = "binary", yes = {"yes"}, no = {"no"}},
    months = {column = "Months", kind = "numeric", range = {0, 200}},
    event = {column = "Event", kind = "binary", yes = {"1"}, no = {"0"}, label = "Event"},
  },
}
]])

local SPEC = [[
return {
  title = "Synthetic study", seed = 7, id = "Patient ID",
  development = {name = "Dev", data = "dev.csv", encoding = "enc.lua"},
  external = {{name = "Ext", data = "ext.csv", encoding = "enc.lua"}},
  tasks = {
    {id = "main", title = "Response", outcome = "response", positive = {"yes"}},
    %s
  },
  survival = {time = "months", event = "event", unit = "months", label = "Overall survival", abbrev = "OS"},
  model = {trees = 40, grid = {mtry = {2}, min_leaf = {5, 10}}, folds = 3},
  selection = {repeats = 1, max_features = 3},
}
]]
write(dir .. "/spec.lua", SPEC:format([[
    {id = "empty", title = "No patients", outcome = "never"},
    {id = "oneclass", title = "One class", outcome = "subtype", positive = {"B"}},
    {id = "broken", title = "Broken", outcome = "nosuch", positive = {"x"}},]]))
write(dir .. "/spec_ok.lua", SPEC:format(""))

local out = dir .. "/out"
local res = sv.study.run(dir .. "/spec.lua", {out = out, threads = 2, log = false})
local by = {}
for _, t in ipairs(res.tasks) do by[t.id] = t end

T.test("the spec runs: the task with patients is done, with its sets and features", function()
  T.eq(#res.tasks, 4)
  T.eq(by.main.status, "done", "main: " .. tostring(by.main.reason))
  T.ok(#by.main.features >= 1, "features selected")
  T.eq(#by.main.sets, 3, "training, internal, external")
  T.eq(by.main.sets[1].name, "training")
  T.eq(by.main.sets[3].name, "external")
  -- 300 - 10 without an outcome = 290 development patients, 150 external
  T.eq(by.main.sets[1].n + by.main.sets[2].n, 290)
  T.eq(by.main.sets[3].n, 150)
  for _, s in ipairs(by.main.sets) do
    T.ok(s.lo < s.auc and s.auc < s.hi, s.name .. " CI brackets the AUC")
    T.ok(s.auc > 0.6, ("%s AUC %.3f: the outcome depends on size and nodes"):format(s.name, s.auc))
  end
  T.ok(by.main.logrank_p > 0 and by.main.logrank_p <= 1 and by.main.hr > 0, "survival by score")
end)

T.test("E-STUDY-MISSING-OUTCOME: missing outcome and missing follow-up are left out and counted", function()
  local c = by.main.counts
  T.eq(c[1].centre, "Dev")
  T.eq(c[1].n, 300)
  T.eq(c[1].missing, MISSING_Y)
  T.eq(c[1].used, 300 - MISSING_Y)
  T.eq(c[2].missing, 0)
  T.eq(c[2].used, 150)
  -- rows 1..3 of each centre lack a time; in dev rows 1..3 also lack the
  -- outcome (already out), so only the external centre's 3 are counted
  local s = by.main.ctx.survival
  T.eq(s.missing, MISSING_T)
  T.eq(s.n, 290 + 150 - MISSING_T)
  local text = T.read_file(out .. "/report.md")
  T.ok(text:find("3 patients with missing 'months' or 'event' left out of the survival analysis", 1, true),
       "the report says how many were left out of the survival analysis")
  local patients = T.read_file(out .. "/tables/main_patients.csv")
  T.ok(patients:find("Dev,0,300,10,0,290,", 1, true), "patients table: " .. patients)
end)

T.test("E-STUDY-NO-PATIENTS, E-STUDY-ONE-CLASS: tasks without patients or with one class are skipped", function()
  T.eq(by.empty.status, "skipped")
  T.ok(by.empty.reason:find("no patients", 1, true), by.empty.reason)
  T.eq(by.oneclass.status, "skipped")
  T.ok(by.oneclass.reason:find("one class only", 1, true), by.oneclass.reason)
end)

T.test("E-STUDY-ONE-CLASS: fewer than min_per_class patients of a class: skipped, saying how many", function()
  local spec = sv.study.spec(dir .. "/spec_ok.lua")
  spec.min_per_class = 200                  -- 290 patients, 134 positive (by the seed), 156 negative
  local r = sv.study.run(spec, {write = false, log = false})
  T.eq(r.tasks[1].status, "skipped")
  T.ok(r.tasks[1].reason:find("too few patients of a class", 1, true) ~= nil, r.tasks[1].reason)
  T.ok(r.tasks[1].reason:find("at least 200 of each", 1, true) ~= nil, r.tasks[1].reason)
end)

T.test("a step that errors late fails its task with the step's name; the study goes on", function()
  local spec = sv.study.spec(dir .. "/spec_ok.lua")
  local steps = sv.study.kinds.binary
  table.insert(steps, 5, {name = "boom", run = function() error("no such thing") end})
  local ok, r = pcall(sv.study.run, spec, {write = false, log = false})
  table.remove(steps, 5)
  T.ok(ok, tostring(r))
  T.eq(r.tasks[1].status, "failed")
  T.ok(r.tasks[1].reason:find("step 'boom': ", 1, true) ~= nil, r.tasks[1].reason)
  T.ok(r.tasks[1].reason:find("no such thing", 1, true) ~= nil, r.tasks[1].reason)
end)

T.test("a test set that mostly lacks a model feature is noted: log and report name the set, feature and count", function()
  -- the external centre without tumour size (all blank) and without nodes
  -- for 50 of its 150 patients (a third: no note)
  local lines, k = {}, 0
  for line in io.lines(dir .. "/ext.csv") do
    k = k + 1
    if k > 1 then
      local f = {}
      for v in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = v end
      f[3] = ""
      if k <= 51 then f[5] = "" end
      line = table.concat(f, ",")
    end
    lines[#lines + 1] = line
  end
  write(dir .. "/ext_nosize.csv", table.concat(lines, "\n") .. "\n")
  local spec = sv.study.spec(dir .. "/spec_ok.lua")
  spec.external[1].data = dir .. "/ext_nosize.csv"
  spec.selection = false                     -- every feature in the model
  local logged = {}
  local r = sv.study.run(spec, {write = false, log = function(m) logged[#logged + 1] = m end})
  T.eq(r.tasks[1].status, "done", tostring(r.tasks[1].reason))
  local want = "set 'external': model feature 'size' is missing for 150 of 150 patients, " ..
               "who are scored with the value imputed from training"
  local found = 0
  for _, n in ipairs(r.tasks[1].notes) do
    if n == want then found = found + 1 end
    T.ok(not n:find("'nodes' is missing", 1, true), "a third missing is not noted: " .. n)
  end
  T.eq(found, 1, "the note on size")
  local in_log = false
  for _, m in ipairs(logged) do if m:find(want, 1, true) then in_log = true end end
  T.ok(in_log, "the log says it too")
end)

T.test("E-STUDY-TASK-ERROR: a task that errors is failed with the message; the others still finish", function()
  T.eq(by.broken.status, "failed")
  T.ok(by.broken.reason:find("outcome 'nosuch' is not in", 1, true), by.broken.reason)
  T.eq(by.main.status, "done")
end)

T.test("the report is written and shows every task's status", function()
  local md = T.read_file(out .. "/report.md")
  T.ok(md:find("This task was skipped: no patients", 1, true) ~= nil, "skip shown")
  T.ok(md:find("This task failed: step 'patients': outcome 'nosuch'", 1, true) ~= nil, "failure shown")
  local tasks = T.read_file(out .. "/tables/tasks.csv")
  T.ok(tasks:find("main,Response,done", 1, true) ~= nil, tasks)
  T.ok(tasks:find("empty,No patients,skipped", 1, true) ~= nil, tasks)
  T.ok(tasks:find("broken,Broken,failed", 1, true) ~= nil, tasks)
  local json = T.json_decode(T.read_file(out .. "/report.json"))
  T.ok(json.values.main ~= nil and json.values.empty == nil, "values of finished tasks only")
  -- predictions: one row per patient of the task, ids from the spec's id column
  local pred = T.read_file(out .. "/tables/main_predictions.csv")
  local n = 0
  for _ in pred:gmatch("\n") do n = n + 1 end
  T.eq(n, 1 + 290 + 150, "header + one line per patient")
  T.ok(pred:find("\nexternal,P001,", 1, true) ~= nil, "external patient P001 scored")
  T.ok(pred:find(",P001,", 1, true) == pred:find("\nexternal,P001,", 1, true) + 9,
       "P001 of the development centre has no outcome, so it is not scored there")
end)

T.test("E-STUDY-SPEC-FIELD, E-STUDY-SPEC-FILE: the spec is checked, errors name the field", function()
  T.raises(function() sv.study.spec({title = "x", tasks = {}, development = {}, colour = 1}) end,
           "unknown field 'colour'")
  T.raises(function() sv.study.spec({tasks = {{id = "a", outcome = "y"}}}) end, "development")
  T.raises(function() sv.study.spec(dir .. "/nope.lua") end, "nope.lua: cannot open the spec file")
  T.raises(function() sv.study.run(dir .. "/spec.lua", {outt = 1}) end, "unknown option 'outt'")
end)

T.test("E-STUDY-LEVEL: a positive level the outcome does not have fails the task, naming it", function()
  local d = sv.study.load_centre({name = "Dev", data = dir .. "/dev.csv", encoding = dir .. "/enc.lua"})
  T.raises(function() sv.study.labels(d.d, {id = "lv", outcome = "subtype", positive = {"B+"}}) end,
           "task 'lv': positive level 'B+' is not a level of 'subtype' (A, B)")
  -- the counts by construction: 300 patients, 10 without a response, 290 used
  local rows, y, c = sv.study.labels(d.d, {id = "r", outcome = "response", positive = {"yes"}})
  T.eq(#rows, 290); T.eq(#y, 290); T.eq(c.missing, 10); T.eq(c.other, 0)
end)

T.test("E-STUDY-FEATURES: an external centre with other features is refused, naming it", function()
  write(dir .. "/enc_short.lua", T.read_file(dir .. "/enc.lua"):gsub("\n    {name = \"nodes\"[^\n]*", ""))
  write(dir .. "/spec_short.lua", T.read_file(dir .. "/spec_ok.lua"):gsub(
    'external = {{name = "Ext", data = "ext.csv", encoding = "enc.lua"}}',
    'external = {{name = "Ext", data = "ext.csv", encoding = "enc_short.lua"}}'))
  T.raises(function() sv.study.run(dir .. "/spec_short.lua", {write = false, log = false}) end,
           "centre 'Ext': " .. dir .. "/enc_short.lua must define the features of")
end)

T.test("sylva study SPEC --out DIR: exit 0 when no task failed, 1 when one did", function()
  local function cli(spec, o)
    os.execute(("rm -rf %q"):format(o))
    return os.execute(("%q study %q --out %q --threads 1 > %q 2>&1"):format(bin, spec, o, o .. ".log"))
  end
  local ok_all = cli(dir .. "/spec_ok.lua", dir .. "/cli_ok")
  T.ok(ok_all, "exit status 0")
  T.ok(io.open(dir .. "/cli_ok/report.html") ~= nil, "report.html written under --out")
  local log = T.read_file(dir .. "/cli_ok.log")
  T.ok(log:find("report: ", 1, true) ~= nil, log)
  local ok_failed = cli(dir .. "/spec.lua", dir .. "/cli_failed")
  T.ok(not ok_failed, "a failed task gives a non-zero exit status")
  T.ok(io.open(dir .. "/cli_failed/report.html") ~= nil, "the report is written all the same")
  local bad = os.execute(("%q study %q --colour red > /dev/null 2>&1"):format(bin, dir .. "/spec_ok.lua"))
  T.ok(not bad, "an unknown option is refused")
end)

T.test("Ctrl-C stops the whole study (not only the running task): status 1, no report", function()
  local o = dir .. "/interrupted"
  os.execute(("rm -rf %q"):format(o))
  -- the full HER2 study takes seconds of CPU: SIGINT after 1 s lands in a task
  os.execute(("cd %q && (%q study examples/her2/study.lua --threads 1 --out %q > %q 2>&1 & pid=$!; " ..
              "sleep 1; kill -INT $pid; wait $pid; echo $? > %q)"):format(T.root, bin, o, o .. ".log", o .. ".rc"))
  local rc = tonumber(T.read_file(o .. ".rc"):match("%d+"))
  local log = T.read_file(o .. ".log")
  T.ok(rc ~= 0, "non-zero exit status")
  T.ok(log:find("sylva study: interrupted", 1, true) ~= nil, log)
  T.ok(io.open(o .. "/report.html") == nil, "no report from an interrupted study")
end)

T.test("figures for print and tables.xlsx when the spec asks", function()
  write(dir .. "/spec_print.lua", (SPEC:format("")):gsub("selection = ", [[figures = {formats = {"pdf", "png"}, dpi = 100, width_mm = 85},
  xlsx = true,
  selection = ]]))
  local o = dir .. "/out_print"
  local r = sv.study.run(dir .. "/spec_print.lua", {out = o, threads = 2, log = false})
  T.eq(r.tasks[1].status, "done")
  local svgs = 0
  local p = io.popen(("ls %q"):format(o .. "/figures"))
  local names = {}
  for f in p:lines() do names[f] = true end
  p:close()
  for f in pairs(names) do
    local base = f:match("^(.*)%.svg$")
    if base then
      svgs = svgs + 1
      T.ok(names[base .. ".pdf"] and names[base .. ".png"], "print copies of " .. f)
    end
  end
  T.ok(svgs >= 3, "figures written")
  local perf = sv.read_xlsx(o .. "/tables.xlsx", {sheet = "tasks"})
  T.eq(perf:col("task")[1], "main")
end)

T.done()
