-- test_study_centres_load.lua - what the study runner does when a centre
-- cannot be loaded (issue 13): an external centre with a bad file or
-- encoding is reported as failed and the tasks run without it (report
-- written, exit status 1); a failing development centre stops the study
-- with an error naming it.
local T = require "testing"
local sv = require "sylva"

local bin = os.getenv("SYLVA_BIN") or "sylva"
local dir = T.tmp .. "/study_load_test"
os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function cohort(path, n, seed, bad_row)
  local r = sv.rng(seed)
  local lines = {"id,size,noise,y"}
  for i = 1, n do
    local size = r:integer(1, 60)
    local y = r:uniform() < 1 / (1 + math.exp(-(size - 30) / 6)) and "yes" or "no"
    lines[#lines + 1] = ("P%03d,%s,%.3f,%s"):format(i, i == bad_row and "big" or tostring(size), r:uniform(), y)
  end
  write(path, table.concat(lines, "\n") .. "\n")
end
cohort(dir .. "/dev.csv", 160, 1)
cohort(dir .. "/ext_ok.csv", 80, 2)
cohort(dir .. "/ext_bad.csv", 80, 3, 12)            -- line 13: size "big"
write(dir .. "/enc.lua", [[
return {
  centre = "Synthetic",
  features = {
    {name = "size", column = "size", kind = "numeric", range = {0, 200}},
    {name = "noise", column = "noise", kind = "numeric", range = {0, 1}},
  },
  impute = {["*"] = "median"},
  outcomes = {y = {column = "y", kind = "binary", yes = {"yes"}, no = {"no"}}},
}
]])
local SPEC = [[
return {
  title = "Load test", seed = 1, id = "id",
  development = {name = "Dev", data = "%s", encoding = "enc.lua"},
  external = {
    {name = "Good", data = "ext_ok.csv", encoding = "enc.lua"},
    {name = "Broken", data = "ext_bad.csv", encoding = "enc.lua"},
    {name = "Missing", data = "ext_ok.csv", encoding = "no_such_encoding.lua"},
  },
  tasks = {{id = "t", outcome = "y"}},
  model = {trees = 30, grid = {mtry = {1}, min_leaf = {5}}, folds = 3},
  selection = false,
}
]]
write(dir .. "/spec.lua", SPEC:format("dev.csv"))
write(dir .. "/spec_devbad.lua", SPEC:format("ext_bad.csv"))

T.test("E-STUDY-CENTRE-LOAD: an external centre that cannot be loaded is reported as failed; the tasks run without it", function()
  local res = sv.study.run(dir .. "/spec.lua", {out = dir .. "/out", log = false, threads = 1})
  T.eq(res.tasks[1].status, "done", res.tasks[1].reason)
  -- the task's test sets: training, internal and the good centre only
  local names = {}
  for _, s in ipairs(res.tasks[1].sets) do names[#names + 1] = s.name end
  T.eq(table.concat(names, ","), "training,internal,external")
  T.eq(#res.centres_failed, 2)
  T.eq(res.centres_failed[1].name, "Broken")
  -- the error names the file, its line and the patient, as sv.encode.apply does
  T.ok(res.centres_failed[1].error:find("ext_bad.csv line 13", 1, true), res.centres_failed[1].error)
  T.ok(res.centres_failed[1].error:find("P012", 1, true), res.centres_failed[1].error)
  T.eq(res.centres_failed[2].name, "Missing")
  T.ok(res.centres_failed[2].error:find("no_such_encoding.lua", 1, true), res.centres_failed[2].error)
  local md = T.read_file(dir .. "/out/report.md")
  T.ok(md:find("could not be loaded: FAILED", 1, true), "the report lists the failed centres")
  T.ok(io.open(dir .. "/out/tables/centres_failed.csv"), "centres_failed.csv")
end)

T.test("E-STUDY-CENTRE-LOAD: sylva study writes the report and exits 1 when a centre failed", function()
  local o = dir .. "/cli"
  local ok = os.execute(("%q study %q --out %q --threads 1 > %q 2>&1"):format(bin, dir .. "/spec.lua", o, o .. ".log"))
  T.ok(not ok, "non-zero exit status")
  T.ok(io.open(o .. "/report.html") ~= nil, "report written")
  T.ok(T.read_file(o .. ".log"):find("centre 'Broken' FAILED to load", 1, true))
end)

T.test("E-STUDY-DEV-LOAD: a development centre that cannot be loaded stops the study, naming it", function()
  local err = T.raises(function() sv.study.run(dir .. "/spec_devbad.lua", {write = false, log = false}) end,
    "study: the development centre 'Dev' cannot be loaded:")
  T.ok(err:find("ext_bad.csv line 13", 1, true), err)
end)

T.test("sv.study.load_centres without options raises an external centre's error", function()
  T.raises(function() sv.study.load_centres(dir .. "/spec.lua") end, "ext_bad.csv line 13")
end)

-- survival by score: a follow-up time the encoding lets through but no
-- survival analysis can use (negative) is an error naming the centre, the
-- file line and the patient (sv.encode.complete_cases), and the count of
-- patients left out for a missing time comes from the same place
local function surv_cohort(path, n, seed, neg_row)
  local r = sv.rng(seed)
  local lines = {"id,size,noise,y,months,event"}
  for i = 1, n do
    local size = r:integer(1, 60)
    local y = r:uniform() < 1 / (1 + math.exp(-(size - 30) / 6)) and "yes" or "no"
    local months = i == neg_row and "-3" or i <= 2 and "" or ("%.1f"):format(r:uniform(1, 100))
    lines[#lines + 1] = ("P%03d,%d,%.3f,%s,%s,%d"):format(i, size, r:uniform(), y, months, r:uniform() < 0.4 and 1 or 0)
  end
  write(path, table.concat(lines, "\n") .. "\n")
end
surv_cohort(dir .. "/sdev.csv", 160, 5)
surv_cohort(dir .. "/sext.csv", 80, 6, 40)          -- line 41, patient P040: -3 months
write(dir .. "/senc.lua", [[
return {
  centre = "SurvCentre",
  features = {
    {name = "size", column = "size", kind = "numeric", range = {0, 200}},
    {name = "noise", column = "noise", kind = "numeric", range = {0, 1}},
  },
  impute = {["*"] = "median"},
  outcomes = {
    y = {column = "y", kind = "binary", yes = {"yes"}, no = {"no"}},
    months = {column = "months", kind = "numeric", range = {-1000, 1000}},
    event = {column = "event", kind = "binary", yes = {"1"}, no = {"0"}},
  },
}
]])
local SSPEC = [[
return {
  title = "Survival check", seed = 1, id = "id",
  development = {name = "SDev", data = "sdev.csv", encoding = "senc.lua"},
  external = {{name = "SExt", data = "%s", encoding = "senc.lua"}},
  tasks = {{id = "t", outcome = "y"}},
  survival = {time = "months", event = "event"},
  model = {trees = 30, grid = {mtry = {1}, min_leaf = {5}}, folds = 3},
  selection = false,
}
]]
write(dir .. "/sspec_bad.lua", SSPEC:format("sext.csv"))
write(dir .. "/sspec_ok.lua", SSPEC:format("sdev.csv"))

T.test("E-STUDY-SURV-TIME: a negative follow-up time fails the task, naming the centre, file line and patient", function()
  local r = sv.study.run(dir .. "/sspec_bad.lua", {write = false, log = false}).tasks[1]
  T.eq(r.status, "failed")
  T.ok(r.reason:find("step 'survival'", 1, true), r.reason)
  T.ok(r.reason:find("sext.csv line 41, patient P040", 1, true), r.reason)
  T.ok(r.reason:find("'months' is -3", 1, true), r.reason)
end)

T.test("E-STUDY-MISSING-OUTCOME: patients without follow-up are counted once, by complete_cases", function()
  local r = sv.study.run(dir .. "/sspec_ok.lua", {write = false, log = false}).tasks[1]
  T.eq(r.status, "done", r.reason)
  -- rows 1-2 of each file lack a time; the external set here is the development file again
  -- (all its patients in the task): 2 from training + internal, 2 from the external set
  T.eq(r.ctx.survival.missing, 4)
  T.eq(r.ctx.survival.n, 160 + 160 - 4)
end)

T.done()
