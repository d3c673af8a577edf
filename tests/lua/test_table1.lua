-- sv.table1: summaries, the choice of test, and R's p-values (fixture from
-- tests/oracle/table1_r.R on the GBSG cohort).
local T = require "testing"
local sv = require "sylva"

local d = sv.read_csv(T.root .. "/tests/fixtures/data/gbsg.csv")
local R = {}
do
  local first = true
  for line in io.lines(T.root .. "/tests/fixtures/table1/gbsg_table1.csv") do
    if first then first = false
    else
      local by, var, test, p, stat, extra = line:match("^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),(.*)$")
      R[by .. "/" .. var .. "/" .. test] = {p = tonumber(p), statistic = tonumber(stat), extra = extra}
    end
  end
end

local function row_of(tab, first)
  for _, r in ipairs(tab.rows) do if r[1] == first then return r end end
  error("no row " .. first)
end

T.test("hand case: n (%) of non-missing values, a missing row, the overall column", function()
  local t = sv.table1({g = {"a", "a", "b", false}}, {vars = {"g"}})
  T.eq(t.columns[2], "Overall (n = 4)")
  T.eq(row_of(t, "g, n (%)")[2], "")
  T.eq(row_of(t, "  a")[2], "2 (66.7)")   -- 2 of 3 non-missing
  T.eq(row_of(t, "  b")[2], "1 (33.3)")
  T.eq(row_of(t, "  Missing, n")[2], "1")
end)

T.test("hand case: mean ± SD and median [IQR]", function()
  -- x = 1..5: mean 3, SD sqrt(2.5) = 1.58; skewness 0 -> mean ± SD
  local t = sv.table1({x = {1, 2, 3, 4, 5}}, {vars = {{name = "x", type = "continuous"}}, digits = 2})
  T.eq(row_of(t, "x, mean \u{00B1} SD")[2], "3.00 \u{00B1} 1.58")
  -- declared nonnormal: median 3, quartiles (type 7) 2 and 4
  t = sv.table1({x = {1, 2, 3, 4, 5}}, {vars = {{name = "x", type = "nonnormal"}}})
  T.eq(row_of(t, "x, median [IQR]")[2], "3.0 [2.0, 4.0]")
end)

T.test("skewness G1 equals R's formula", function()
  local hormon, age = d:col("hormon"), d:col("age")
  local s = {}
  for i = 1, #age do if hormon[i] == 1 then s[#s + 1] = age[i] end end
  local want = tonumber(R["hormon/age/summary_1"].extra:match("([^|]+)$"))
  T.near(sv.table1.skewness(s), want, 1e-12, nil, true)
end)

T.test("one-way ANOVA equals R's aov (F and p)", function()
  local grade, age = d:col("grade"), d:col("age")
  local s = {{}, {}, {}}
  for i = 1, #age do local g = s[grade[i]]; g[#g + 1] = age[i] end
  local a = sv.table1.anova(s)
  local r = R["grade/age/anova"]
  T.rel(a.statistic, r.statistic, 1e-10)
  T.rel(a.p, r.p, 1e-9)
  T.eq(a.df[1], 2); T.eq(a.df[2], 683)
end)

local by_h = sv.table1(d, {by = "hormon", vars = {
  {name = "age", label = "Age"}, {name = "nodes", label = "Positive nodes"}, {name = "size", label = "Size"},
  {name = "grade", label = "Grade"}, {name = "meno", label = "Menopause", level_labels = {[0] = "pre", [1] = "post"}}},
  group_labels = {[0] = "No therapy", [1] = "Hormone therapy"}})

T.test("two groups: the test follows the variable (Welch t, Wilcoxon, chi-square) and p agrees with R", function()
  T.eq(by_h.columns[2], "No therapy (n = 440)")
  T.eq(by_h.columns[3], "Hormone therapy (n = 246)")
  T.eq(by_h.columns[4], "Overall (n = 686)")
  T.eq(by_h.columns[5], "p"); T.eq(by_h.columns[6], "Test")
  T.eq(by_h.tests.age.test, "Welch t")
  T.rel(by_h.tests.age.p, R["hormon/age/welch"].p, 1e-9)
  T.eq(by_h.tests.nodes.test, "Wilcoxon")
  T.rel(by_h.tests.nodes.p, R["hormon/nodes/wilcoxon"].p, 1e-9)
  T.rel(by_h.tests.size.p, R["hormon/size/wilcoxon"].p, 1e-9)
  T.eq(by_h.tests.grade.test, "\u{03C7}\u{00B2}")
  T.rel(by_h.tests.grade.p, R["hormon/grade/chisq"].p, 1e-9)
  T.rel(by_h.tests.meno.p, R["hormon/meno/chisq"].p, 1e-9)
end)

T.test("two groups: formatted summaries from R's numbers", function()
  local r0 = R["hormon/age/summary_0"]
  local age = row_of(by_h, "Age, mean \u{00B1} SD")
  T.eq(age[2], ("%.1f \u{00B1} %.1f"):format(r0.p, r0.statistic))   -- 51.1 ± 10.0
  T.eq(age[5], "< 0.001")
  local nodes = row_of(by_h, "Positive nodes, median [IQR]")     -- skewness 3.1 -> median
  local med, q1, q3 = R["hormon/nodes/summary_1"].extra:match("^([^|]+)|([^|]+)|([^|]+)")
  T.eq(nodes[3], ("%.1f [%.1f, %.1f]"):format(tonumber(med), tonumber(q1), tonumber(q3)))
  T.eq(nodes[5], ("%.3f"):format(R["hormon/nodes/wilcoxon"].p))
  T.ok(row_of(by_h, "  post"), "level labels")
  T.ok(by_h.notes:find("Welch", 1, true) and by_h.notes:find("Wilcoxon", 1, true), by_h.notes)
end)

T.test("three groups: ANOVA, Kruskal-Wallis and chi-square agree with R", function()
  local t = sv.table1(d, {by = "grade", vars = {"age", "nodes", "meno"}, overall = false})
  T.eq(#t.columns, 1 + 3 + 2)
  T.eq(t.tests.age.test, "ANOVA")
  T.rel(t.tests.age.p, R["grade/age/anova"].p, 1e-9)
  T.eq(t.tests.nodes.test, "Kruskal\u{2013}Wallis")
  T.rel(t.tests.nodes.p, R["grade/nodes/kruskal"].p, 1e-9)
  T.rel(t.tests.meno.p, R["grade/meno/chisq"].p, 1e-9)
end)

T.test("an expected count below 5 switches to Fisher's exact test", function()
  local grade, hormon = {}, {}
  local g, h = d:col("grade"), d:col("hormon")
  for i = 1, 40 do grade[i] = g[i]; hormon[i] = h[i] end
  local t = sv.table1({grade = grade, hormon = hormon}, {by = "hormon", vars = {"grade"}})
  T.eq(t.tests.grade.test, "Fisher")
  T.rel(t.tests.grade.p, R["grade_small/grade/fisher"].p, 1e-9)
end)

T.test("by set: labels given as an array, groups in a chosen order, encoded data accepted", function()
  local set = {}
  for i = 1, d:nrow() do set[i] = i <= 480 and "Training" or "Test" end
  local t = sv.table1(d, {by = set, groups = {"Training", "Test"}, vars = {"age"}})
  T.eq(t.columns[2], "Training (n = 480)")
  T.eq(t.columns[3], "Test (n = 206)")
end)

T.test("encoded data: variables by name, categorical levels from the spec", function()
  local enc = sv.encode.load(T.root .. "/tests/fixtures/encode/centre_a.lua")
  local ed = sv.encode.apply(enc, sv.read_csv(T.root .. "/tests/fixtures/encode/centre_a.csv"))
  local t = sv.table1(ed, {vars = {"fgt", "edema", {name = "age", type = "normal"}}})
  -- fgt: a, 2 -> b, FATTY -> a, d, missing -> levels a..d over 4 non-missing
  T.eq(row_of(t, "  a")[2], "2 (50.0)")
  T.eq(row_of(t, "  c")[2], "0 (0.0)")
  T.eq(row_of(t, "  yes")[2], "2 (50.0)")  -- edema: yes, no, n, missing, y
  -- ages 50, 60, 45, 70: mean 56.25, SD 11.09
  T.eq(row_of(t, "age, mean \u{00B1} SD")[2], "56.2 \u{00B1} 11.1")
  -- without vars: every feature and outcome
  local all = sv.table1(ed, {})
  T.ok(row_of(all, "her2, n (%)"), "outcomes included")
  T.ok(row_of(all, "shape, n (%)"), "one-hot folded back")
end)

T.test("errors name the option or the variable", function()
  T.raises(function() sv.table1(d, {vars = {"nope"}}) end, "no variable 'nope'")
  T.raises(function() sv.table1(d, {by = "nope", vars = {"age"}}) end, "bad option 'by'")
  T.raises(function() sv.table1(d, {vars = {"age"}, bye = 1}) end, "unknown option 'bye' to table1")
  T.raises(function() sv.table1(d, {vars = {{name = "age", type = "gaussian"}}}) end, "type must be")
  T.raises(function() sv.table1(d, {by = {1, 2}, vars = {"age"}}) end, "2 labels for 686 rows")
end)

T.test("the result is a table sv.report can write", function()
  local csv = sv.report.csv(by_h)
  T.ok(csv:find("Characteristic,No therapy (n = 440)", 1, true), csv:sub(1, 80))
end)

-- Issue 13: sv.table1 silently dropped values outside `levels` (two HER2
-- "negative" patients vanished). Counts per level, the "Other" row and the
-- missing row are compared with R's table(useNA = "ifany")
-- (tests/oracle/table1_r.R on tests/fixtures/table1/levels_missing.csv).
local LM = {}
for line in io.lines(T.root .. "/tests/fixtures/table1/levels_missing_r.csv") do
  local var, lv, g, val = line:match("^([^,]*),([^,]*),([^,]*),([^,]*)$")
  if var ~= "variable" then LM[var .. "/" .. lv .. "/" .. g] = tonumber(val) end
end
local lmd = sv.read_csv(T.root .. "/tests/fixtures/table1/levels_missing.csv")

T.test("a value outside levels is an error naming the variable and the value", function()
  local err = T.raises(function()
    sv.table1(lmd, {by = "set", vars = {{name = "her2", type = "categorical", levels = {"positive", "low", "zero"}}}})
  end, "table1: variable 'her2' has value 'negative'")
  T.ok(err:find(("(%d rows)"):format(LM["her2/negative/Overall"]), 1, true), err)
  T.ok(err:find("other = true", 1, true), err)
  T.raises(function() sv.table1({g = {1, 2, 3, 3}}, {vars = {{name = "g", levels = {1, 2}}}}) end,
    "value '3' (2 rows)")
end)

T.test("other = true counts every value outside levels in an Other row (R's table, useNA)", function()
  local t = sv.table1(lmd, {by = "set", groups = {"Training", "Test"}, vars = {
    {name = "her2", type = "categorical", levels = {"positive", "low", "zero"}, other = true},
    {name = "grade", type = "categorical"}}})
  local function count(cell) return tonumber(cell:match("^(%d+)")) end
  local col = {Training = 2, Test = 3, Overall = 4}
  for _, g in ipairs({"Training", "Test", "Overall"}) do
    local nonmiss = 0
    for _, lv in ipairs({"positive", "low", "zero", "negative"}) do nonmiss = nonmiss + LM["her2/" .. lv .. "/" .. g] end
    for _, lv in ipairs({"positive", "low", "zero"}) do
      local cell = row_of(t, "  " .. lv)[col[g]]
      T.eq(count(cell), LM["her2/" .. lv .. "/" .. g], lv .. " " .. g)
      T.eq(cell:match("%((.-)%)"), ("%.1f"):format(100 * LM["her2/" .. lv .. "/" .. g] / nonmiss))
    end
    T.eq(count(row_of(t, "  Other")[col[g]]), LM["her2/negative/" .. g], "Other " .. g)
  end
  -- the missing rows: R's <NA> counts, per set and overall (the first
  -- "Missing, n" row is her2's, the second grade's)
  local miss = {}
  for _, r in ipairs(t.rows) do if r[1] == "  Missing, n" then miss[#miss + 1] = r end end
  T.eq(#miss, 2)
  for k, v in ipairs({"her2", "grade"}) do
    for _, g in ipairs({"Training", "Test", "Overall"}) do
      T.eq(tonumber(miss[k][col[g]]), LM[v .. "/<NA>/" .. g], v .. " missing " .. g)
    end
  end
  for _, lv in ipairs({"1", "2", "3"}) do
    for _, g in ipairs({"Training", "Test", "Overall"}) do
      T.eq(count(row_of(t, "  " .. lv)[col[g]]), LM["grade/" .. lv .. "/" .. g])
    end
  end
  -- the test sees the Other level as R's table on the folded values does
  local rec = t.tests.her2
  local want = rec.test == "Fisher" and LM["her2_other/fisher/p"] or LM["her2_other/chisq/p"]
  T.rel(rec.p, want, 1e-6)
  -- a label for the row, per variable or for all
  t = sv.table1(lmd, {vars = {{name = "her2", type = "categorical", levels = {"positive", "low", "zero"},
    other = "negative or other"}}})
  T.eq(count(row_of(t, "  negative or other")[2]), LM["her2/negative/Overall"])
  t = sv.table1(lmd, {other = true, vars = {{name = "her2", levels = {"positive", "low", "zero"}}}})
  T.eq(count(row_of(t, "  Other")[2]), LM["her2/negative/Overall"])
end)

T.done()
