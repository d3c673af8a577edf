-- test_study_survival.lua - the study runner's "survival" task kind: a
-- random survival forest of the encoded time and event. Real cohorts: GBSG
-- (686 patients, 299 recurrences or deaths, R's survival::gbsg) as the
-- development centre and node-positive Rotterdam as the external one, with
-- the encodings of examples/breast-recurrence. Checks: the step runs and
-- counts patients; every reported number equals a direct call of the
-- sv.surv function on the same predictions (and Harrell's C a brute-force
-- count over pairs); the cut-point is fixed on training and reused; too
-- few events skip the task; missing and zero times are left out, counted.
local T = require "testing"
local sv = require "sylva"

local dir = T.tmp .. "/study_surv_test"
os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))
local root = T.root
local enc = root .. "/examples/breast-recurrence/encodings/"
local data = root .. "/tests/fixtures/data/"

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- gbsg with three times blanked and one set to 0 (the first data rows)
do
  local lines = {}
  for line in io.lines(data .. "gbsg.csv") do lines[#lines + 1] = line end
  for k = 2, 4 do lines[k] = lines[k]:gsub(",(%d+),(%d)$", ",,%2") end
  lines[5] = lines[5]:gsub(",(%d+),(%d)$", ",0,%2")
  write(dir .. "/gbsg_gaps.csv", table.concat(lines, "\n") .. "\n")
  -- the example's encoding with the time read as a column (its derived
  -- outcomes need a time), in days
  local src = T.read_file(enc .. "gbsg.lua")
  local a, b = src:find("  outcomes = {.-\n  },\n")
  write(dir .. "/gbsg_days.lua", src:sub(1, a - 1) .. [[
  outcomes = {
    rfs_days = {column = "rfstime", kind = "numeric", range = {0, 20000}},
    rfs_event = {column = "status", kind = "binary", yes = {"1"}, no = {"0"}},
  },
]] .. src:sub(b + 1))
end

local function spec(extra)
  local s = {
    title = "Survival study", seed = 11, id = "pid",
    development = {name = "GBSG", data = data .. "gbsg.csv", encoding = enc .. "gbsg.lua"},
    external = {{name = "Rotterdam", data = data .. "rotterdam.csv", encoding = enc .. "rotterdam.lua"}},
    tasks = {{id = "rfs", title = "RFS", kind = "survival", time = "rfs_years", event = "rfs_event",
              horizons = {1, 3, 5, 10}, horizon = 5}},
    model = {trees = 60},
  }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local res = sv.study.run(spec(), {write = false, log = false, threads = 1})
local r = res.tasks[1]

T.test("a survival task runs on GBSG -> Rotterdam: sets with n, events, Harrell's C and its CI", function()
  T.eq(r.status, "done", r.reason)
  T.eq(r.kind, "survival")
  T.eq(#r.sets, 3)
  T.eq(r.sets[1].name, "training"); T.eq(r.sets[2].name, "internal"); T.eq(r.sets[3].name, "external")
  -- GBSG: 686 patients, 299 events, none missing (R: nrow(gbsg), sum(gbsg$status))
  local c = r.counts[1]
  T.eq(c.n, 686); T.eq(c.missing, 0); T.eq(c.time_zero, 0); T.eq(c.used, 686); T.eq(c.events, 299)
  T.eq(r.sets[1].n + r.sets[2].n, 686)
  T.eq(r.sets[1].events + r.sets[2].events, 299)
  T.eq(r.sets[3].n, r.counts[2].used)
  for _, s in ipairs(r.sets) do
    -- published forests on these cohorts reach C ~0.65-0.70; anything in (0.55, 0.8) is a working model
    T.ok(s.c > 0.55 and s.c < 0.8, ("%s C = %g"):format(s.name, s.c))
    T.ok(s.lo < s.c and s.c < s.hi, s.name .. ": C inside its CI")
    T.ok(s.uno > 0.5 and s.uno < 0.85, s.name .. ": Uno's C")
  end
end)

T.test("the reported numbers are those of sv.surv on the same predictions", function()
  local ctx = r.ctx
  local z = 1.959963984540054
  local tdrow = {}
  for _, row in ipairs(ctx.time_dependent) do tdrow[row.set .. "@" .. row.time] = row end
  for k, set in ipairs(ctx.sets) do
    local t, e, m = set.time, set.event, set.score
    local c, cc = sv.surv.concordance(t, e, m)
    local u, uc = sv.surv.concordance(t, e, m, {timewt = "n/G2"})
    local row = ctx.concordance[k]
    T.eq(row.harrell_c, c, set.name .. " C"); T.eq(row.uno_c, u, set.name .. " Uno")
    T.near(row.harrell_lo, c - z * cc.se, 1e-15); T.near(row.uno_hi, u + z * uc.se, 1e-15)
    -- horizons after the last follow-up are left out (GBSG follow-up ends before 10 years)
    local tmax = 0
    for i = 1, #t do tmax = math.max(tmax, t[i]) end
    local hs = {}
    for _, h in ipairs({1, 3, 5, 10}) do if h <= tmax then hs[#hs + 1] = h end end
    if k < 3 then T.eq(#hs, 3, "GBSG ends before 10 years") end
    local a = sv.surv.auc_t(t, e, m, hs)
    local b = k > 1 and sv.surv.brier_t(t, e, ctx.model:survival(set.d.X, hs), hs)
    for j, h in ipairs(hs) do
      local tr = tdrow[set.name .. "@" .. h]
      T.eq(tr.auc, a.auc[j]); T.eq(tr.auc_lo, a.lo[j]); T.eq(tr.cases, a.cases[j])
      if b then T.eq(tr.brier, b.brier[j]); T.eq(tr.ibs, b.ibs[j]) else T.eq(tr.brier, nil, "no OOB S(t) on training") end
    end
    if k > 1 then
      local S = ctx.model:survival(set.d.X, hs)
      local s = {}
      for i = 1, #t do s[i] = S:get(i, 3) end      -- 5 years, the third horizon
      local cl = sv.surv.calibration_t(t, e, s, 5)
      local crow = ctx.calibration[k - 1]
      T.eq(crow.set, set.name); T.eq(crow.oe, cl.oe); T.eq(crow.slope, cl.slope); T.eq(crow.observed, cl.observed)
    end
  end
  local notes = table.concat(ctx.notes, "\n")
  T.ok(notes:find("set 'training': horizons after its last follow%-up time left out %(3 of 4 kept%)", 1, false), notes)
end)

T.test("SHAP of the forest's risk: the ranking is sv.shap.importance of sv.shap.tree on training", function()
  local ctx = r.ctx
  local phi = sv.shap.tree(ctx.model, ctx.train.d.X)
  local imp = sv.shap.importance(phi)
  T.eq(#ctx.importance, #imp)
  for k, row in ipairs(imp) do
    T.eq(ctx.importance[k].feature, row.name); T.near(ctx.importance[k].mean_abs_shap, row.value, 1e-9 * row.value)
  end
  -- positive nodes lead the risk of recurrence in GBSG (Royston & Altman 2013: the strongest prognostic factor)
  T.eq(ctx.importance[1].feature, "nodes")
  local figs = {}
  for _, b in ipairs(res.report.blocks) do if b.type == "figure" then figs[b.name] = true end end
  T.ok(figs.rfs_shap_beeswarm and figs.rfs_shap_bar and figs.rfs_dependence_nodes, "SHAP figures")
  T.ok(figs.rfs_auc_t and figs.rfs_brier_t and figs.rfs_calibration_t and figs.rfs_km_external, "survival figures")
  local t1
  for _, b in ipairs(res.report.blocks) do if b.type == "table" and b.name == "rfs_table1" then t1 = b end end
  T.ok(t1, "Table 1 of the survival task")
  local text = sv.report.csv(t1.data or t1)
  T.ok(text:find("Recurrence or death", 1, true), "the event is a row of Table 1")
end)

T.test("Harrell's C of the internal set equals a brute-force count over pairs", function()
  local set = r.ctx.sets[2]
  local t, e, m = set.time, set.event, set.score
  local num, den = 0, 0
  for i = 1, #t do
    for j = 1, #t do
      -- comparable: i has the event and the shorter time (a censoring at i's time counts as longer)
      if e[i] == 1 and (t[i] < t[j] or (t[i] == t[j] and e[j] == 0)) then
        den = den + 1
        if m[i] > m[j] then num = num + 1 elseif m[i] == m[j] then num = num + 0.5 end
      end
    end
  end
  T.near(r.sets[2].c, num / den, 1e-12)
end)

T.test("the cut-point is chosen on the training OOB risk and applied unchanged to the test sets", function()
  local ctx = r.ctx
  local tr = ctx.sets[1]
  local cp = sv.surv.cutpoint(tr.time, tr.event, tr.score)
  T.eq(ctx.cutpoint.cut, cp.cut)
  for k, set in ipairs(ctx.sets) do
    local g, nh = {}, 0
    for i = 1, #set.score do
      g[i] = set.score[i] > cp.cut and "high" or "low"
      if g[i] == "high" then nh = nh + 1 end
    end
    local row = ctx.riskgroups[k]
    T.eq(row.n_high, nh, set.name)
    T.eq(row.logrank_p, sv.surv.logrank(set.time, set.event, g).p, set.name)
  end
  -- the risk groups separate on the external centre
  T.ok(ctx.riskgroups[3].logrank_p < 1e-3)
end)

T.test("too few events skip the task; missing and zero times are left out and counted", function()
  local s = spec({min_per_class = 400})
  local r2 = sv.study.run(s, {write = false, log = false, threads = 1}).tasks[1]
  T.eq(r2.status, "skipped")
  T.ok(r2.reason:find("too few events in the development centre 'GBSG': 299 events, 387 censored"), r2.reason)
  local s3 = spec({development = {name = "GBSG", data = dir .. "/gbsg_gaps.csv", encoding = dir .. "/gbsg_days.lua"},
                   external = {}, model = {trees = 10}})
  s3.tasks = {{id = "rfs", kind = "survival", time = "rfs_days", event = "rfs_event", horizons = {365, 1095}}}
  local r3 = sv.study.run(s3, {write = false, log = false, threads = 1}).tasks[1]
  T.eq(r3.status, "done", r3.reason)
  local c = r3.counts[1]
  T.eq(c.n, 686); T.eq(c.missing, 3); T.eq(c.time_zero, 1); T.eq(c.used, 682)
  T.ok(table.concat(r3.notes, "\n"):find("3 of 686 patients left out"), table.concat(r3.notes, "\n"))
  -- with 10 trees some test patients have S(3 years) = 1 exactly: out of the calibration, counted, as the
  -- reported numbers of sv.surv.calibration_t on the others show
  local ctx = r3.ctx
  local set = ctx.sets[2]
  local S = ctx.model:survival(set.d.X, {365, 1095})
  local t, e, s, out = {}, {}, {}, 0
  for i = 1, #set.time do
    local v = S:get(i, 2)
    if v > 0 and v < 1 then t[#t + 1], e[#e + 1], s[#s + 1] = set.time[i], set.event[i], v else out = out + 1 end
  end
  T.ok(out > 0, "some S(t) = 1 with 10 trees")
  T.ok(table.concat(r3.notes, "\n"):find(("set 'internal': %d patients? with a predicted S%%(1095%%) of exactly 0 or 1"):format(out)),
    table.concat(r3.notes, "\n"))
  T.eq(ctx.calibration[1].oe, sv.surv.calibration_t(t, e, s, 1095).oe)
end)

T.test("patient ids follow the file rows after a keep filter (Rotterdam keeps node-positive patients)", function()
  local c = sv.study.load_centre({name = "R", data = data .. "rotterdam.csv", encoding = enc .. "rotterdam.lua", id = "pid"})
  local pid = sv.read_csv(data .. "rotterdam.csv"):col("pid")
  T.ok(c.filtered > 0, "the filter dropped rows")
  for i = 1, c.d.n do
    local want = pid[c.d.rows[i]]
    T.eq(c.ids[c.d.rows[i]], tostring(math.tointeger(want) or want), "row " .. c.d.rows[i])
  end
  -- and the external set of the survival task names its patients so
  local set = r.ctx.sets[3]
  for i = 1, #set.time do T.ok(set.ids[set.d.rows[i]] ~= nil, "external patient " .. i .. " has an id") end
end)

T.test("the TRIPOD+AI rows name a survival task's own tables", function()
  local s = spec()
  s.tasks[2] = {id = "bin", outcome = "recur5", positive = {"yes"}}
  local rows = sv.study.tripod(s, {tasks = {{id = "rfs", kind = "survival"}, {id = "bin", kind = "binary"}}})
  local where = {}
  for _, row in ipairs(rows) do where[row.topic] = row.where end
  T.ok(where["Discrimination with confidence intervals"]:find("rfs_concordance, rfs_time_dependent, bin_discrimination", 1, true),
    where["Discrimination with confidence intervals"])
  T.ok(not where["Model building: tuning and feature selection"]:find("rfs_"), "no grid for a survival task")
end)

T.test("a survival task's spec is checked", function()
  local s = spec()
  s.tasks = {{id = "x", kind = "survival", time = "rfs_years", event = "rfs_event"}}
  T.raises(function() sv.study.spec(s) end, "tasks[1].horizons must list positive times in ascending order")
  s.tasks = {{id = "x", kind = "survival", time = "rfs_years", event = "rfs_event", horizons = {3, 1}}}
  T.raises(function() sv.study.spec(s) end, "horizons must list positive times in ascending order")
  s.tasks = {{id = "x", kind = "survival", horizons = {1, 3}}}
  T.raises(function() sv.study.spec(s) end, "a survival task needs time = and event =")
  s.tasks = {{id = "x", kind = "survival", time = "rfs_years", event = "rfs_event", horizons = {1, 3}, horizon = 2}}
  T.raises(function() sv.study.spec(s) end, "horizon (calibration) must be one of the horizons")
  -- time and event from spec.survival
  s.tasks = {{id = "x", kind = "survival", horizons = {1, 3}}}
  s.survival = {time = "rfs_years", event = "rfs_event"}
  T.ok(sv.study.spec(s))
end)

T.done()
