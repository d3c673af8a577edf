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

T.done()
