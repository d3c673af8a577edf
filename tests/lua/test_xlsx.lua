-- Excel workbooks (issue 19 item 2): sv.read_xlsx against workbooks written
-- by other programs (tests/oracle/xlsx_fixtures.py: openpyxl, and parts
-- written by hand as Excel and LibreOffice write them), the same typing and
-- missing-value rules as read_csv (gbsg as .xlsx = gbsg.csv bit for bit),
-- errors naming file, sheet and cell; sv.write_xlsx round trips.
local T = require "testing"
local sv = require "sylva"

local X = T.root .. "/tests/fixtures/xlsx/"

local function missing(v) return v == false or (type(v) == "number" and v ~= v) end

T.test("openpyxl's workbook: every cell as openpyxl reads it back", function()
  local d, info = sv.read_xlsx(X .. "clinical.xlsx")
  T.eq(info.sheet, "Patients"); T.eq(info.date1904, false); T.eq(info.date_origin, "1899-12-30")
  T.eq(d:nrow(), 5, "rows 2, 3, 5, 6, 7 (row 4 is empty)")
  T.eq(d:names()[1], "Patient identifier at the referring centre")
  -- sheet row -> frame row through the origin
  local at = {}
  for i = 1, d:nrow() do
    local file, row = d:origin(i)
    T.eq(file, X .. "clinical.xlsx!Patients")
    at[row] = i
  end
  T.eq(at[5], 3)
  local exp = sv.read_csv(X .. "clinical_expected.csv", {na = {}})
  local names = d:names()
  local seen = {}
  for k = 1, exp:nrow() do
    local r, c = math.tointeger(exp:col("row")[k]), math.tointeger(exp:col("col")[k])
    local kind, value = exp:col("kind")[k], exp:col("value")[k]
    local i = assert(at[r], "row " .. r)
    local got = d:col(names[c])[i]
    seen[i .. ":" .. c] = true
    if kind == "num" then
      T.eq(got, tonumber(value), ("row %d col %d"):format(r, c))
    elseif value == "NA" then
      T.ok(missing(got), "the text NA is missing, as in read_csv")
    else
      T.eq(got, value, ("row %d col %d"):format(r, c))
    end
  end
  -- every other cell is missing
  for i = 1, d:nrow() do
    for c = 1, #names do
      if not seen[i .. ":" .. c] then T.ok(missing(d:col(names[c])[i]), ("cell %d:%d missing"):format(i, c)) end
    end
  end
  -- a 1900-03-01 date is Excel serial 61, the leap-year bug included
  T.eq(d:col("Date of baseline MRI")[4], 61)
end)

T.test("a second sheet by name and by index; leading empty rows and columns skipped", function()
  local a = sv.read_xlsx(X .. "clinical.xlsx", {sheet = "Codebook"})
  local b = sv.read_xlsx(X .. "clinical.xlsx", {sheet = 2})
  T.eq(table.concat(a:names(), ","), "code,meaning")
  T.eq(a:col("code")[1], 1); T.eq(b:col("meaning")[1], "zero")
  local _, row = a:origin(1)
  T.eq(row, 4, "the sheet's row number")
end)

T.test("parts as Excel and LibreOffice write them: inline and rich text, errors, formulas, 1904 dates", function()
  local d, info = sv.read_xlsx(X .. "handmade.xlsx")
  T.eq(info.sheet, "Data"); T.eq(info.date1904, true); T.eq(info.date_origin, "1904-01-01")
  T.eq(table.concat(d:names(), ","), "id,value,status")
  local id, v, st = d:col("id"), d:col("value"), d:col("status")
  T.eq(id[1], "inline one"); T.eq(id[2], "rich text"); T.eq(id[3], "漢字", "phonetic guide left out")
  T.eq(id[4], "inline", "runs of an inline string joined")
  T.eq(v[1], 1.5); T.ok(missing(v[2]), "#DIV/0! is missing"); T.eq(v[3], 3, "a formula's cached value")
  T.eq(v[4], 0.0025)
  T.eq(st[1], "TRUE"); T.eq(st[2], "FALSE"); T.eq(st[3], "ab"); T.ok(missing(st[4]))
  local e = sv.read_xlsx(X .. "handmade.xlsx", {sheet = "Dates 1904"})
  T.eq(e:col("when")[1], 0)
end)

T.test("the gbsg cohort as a workbook equals read_csv of the same data, bit for bit", function()
  local a = sv.read_xlsx(X .. "gbsg.xlsx")
  local b = sv.read_csv(T.root .. "/tests/fixtures/data/gbsg.csv")
  T.eq(table.concat(a:names(), ","), table.concat(b:names(), ","))
  T.eq(a:nrow(), b:nrow())
  for _, n in ipairs(b:names()) do
    local x, y = a:col(n), b:col(n)
    for i = 1, b:nrow() do
      if x[i] ~= y[i] then error(("%s row %d: %s vs %s"):format(n, i, tostring(x[i]), tostring(y[i]))) end
    end
  end
end)

T.test("na option, and errors naming the file, the sheet and the cell", function()
  local d = sv.read_xlsx(X .. "clinical.xlsx", {na = {"negative"}})
  T.eq(d:col("HER2 status (IHC/ISH)")[5], "NA", "the text NA is data when na does not list it")
  T.ok(missing(d:col("HER2 status (IHC/ISH)")[2]))
  T.raises(function() sv.read_xlsx(X .. "bad_sst.xlsx") end, "bad_sst.xlsx: Data!C18: shared string 99 does not exist (the workbook has 5)")
  T.raises(function() sv.read_xlsx(X .. "twice.xlsx") end, "twice.xlsx: Data!A1: the cell is given twice")
  T.raises(function() sv.read_xlsx(X .. "broken_xml.xlsx") end, "damaged workbook: xl/worksheets/sheet1.xml line 1")
  T.raises(function() sv.read_xlsx(X .. "no_workbook.xlsx") end, "not an Excel workbook (.xlsx): it has no xl/workbook.xml")
  T.raises(function() sv.read_xlsx(T.root .. "/tests/fixtures/data/gbsg.csv") end, "gbsg.csv: not an Excel workbook (.xlsx): not a zip file")
  T.raises(function() sv.read_xlsx(X .. "nope.xlsx") end, "read_xlsx: cannot open")
  T.raises(function() sv.read_xlsx(X .. "clinical.xlsx", {sheet = "Sheet1"}) end, "no sheet named 'Sheet1' (the sheets are 'Patients', 'Codebook')")
  T.raises(function() sv.read_xlsx(X .. "clinical.xlsx", {sheet = 3}) end, "no sheet 3 (the workbook has 2)")
  T.raises(function() sv.read_xlsx(X .. "clinical.xlsx", {sheet = 0}) end, "option 'sheet'")
  T.raises(function() sv.read_xlsx(X .. "clinical.xlsx", {shet = 1}) end, "unknown option 'shet'")
  T.raises(function() sv.read_csv(X .. "clinical.xlsx") end, "read it with sv.read_xlsx")
end)

T.test("write_xlsx: a frame round trips bit for bit; tables keep numbers as numbers", function()
  local d = sv.read_csv(T.root .. "/tests/fixtures/data/rotterdam.csv")
  local path = T.tmp .. "/rotterdam.xlsx"
  T.eq(sv.write_xlsx(path, d), path)
  local e = sv.read_xlsx(path)
  T.eq(table.concat(e:names(), ","), table.concat(d:names(), ","))
  for _, n in ipairs(d:names()) do
    local a, b = d:col(n), e:col(n)
    for i = 1, d:nrow() do
      if a[i] ~= b[i] then error(("%s row %d: %s vs %s"):format(n, i, tostring(a[i]), tostring(b[i]))) end
    end
  end
  local t = {name = "Table 1", columns = {"Variable", "Level", "n (%)", "p"},
             rows = {{"Age, years", nil, "53 (10)", 0.012}, {"Grade", "3", "81 (11.8%)", 1 / 3}}}
  sv.write_xlsx(path, {t, {name = "rotterdam", frame = d}})
  local a = sv.read_xlsx(path, {sheet = "Table 1"})
  T.eq(a:col("Variable")[1], "Age, years")
  T.eq(a:col("p")[2], 1 / 3, "a number stays the same double")
  T.ok(missing(a:col("Level")[1]))
  T.eq(sv.read_xlsx(path, {sheet = 2}):nrow(), d:nrow())
end)

T.test("write_xlsx refuses what Excel would refuse, naming the sheet; nothing half-written", function()
  local d = sv.frame({a = {1, 2}})
  local path = T.tmp .. "/bad.xlsx"
  os.remove(path)
  T.raises(function() sv.write_xlsx(path, {{name = "a/b", frame = d}}) end, "sheet name 'a/b' holds one of []:*?/\\")
  T.raises(function() sv.write_xlsx(path, {{name = ("x"):rep(32), frame = d}}) end, "longer than 31 characters")
  T.raises(function() sv.write_xlsx(path, {{name = "A", frame = d}, {name = "a", frame = d}}) end, "two sheets are named 'a'")
  T.raises(function() sv.write_xlsx(path, {}) end, "no sheets to write")
  T.raises(function() sv.write_xlsx(path, {{name = "t", columns = {"x"}, rows = {1}}}) end, "sheet 't': row 1 is not an array of cells")
  T.raises(function() sv.write_xlsx("/nonexistent-dir/x.xlsx", d) end, "x.xlsx")
  T.ok(not io.open(path, "rb"), "no file after a refused write")
end)

T.test("a report writes its tables as tables.xlsx when asked", function()
  local rep = sv.report.new({title = "t", date = "2026-01-01", script = "x.lua"})
  rep:table({columns = {"a", "b"}, rows = {{1, "x"}, {2.5, "y"}}}, {name = "perf"})
  rep:table({columns = {"c"}, rows = {{3}}}, {name = "table1"})
  local dir = T.tmp .. "/rep_xlsx"
  local files = rep:write(dir, {formats = {"md", "csv", "xlsx"}})
  local found = false
  for _, f in ipairs(files) do if f == dir .. "/tables.xlsx" then found = true end end
  T.ok(found, "tables.xlsx written")
  local p = sv.read_xlsx(dir .. "/tables.xlsx", {sheet = "perf"})
  T.eq(p:col("a")[2], 2.5); T.eq(p:col("b")[1], "x")
  T.eq(sv.read_xlsx(dir .. "/tables.xlsx", {sheet = "table1"}):col("c")[1], 3)
end)

T.test("a centre sent as a workbook: the study loads it as it loads the CSV, and sylva score reads it", function()
  local enc = T.root .. "/examples/breast-recurrence/encodings/gbsg.lua"
  local a = sv.study.load_centre({name = "GBSG", data = X .. "gbsg.xlsx", encoding = enc})
  local b = sv.study.load_centre({name = "GBSG", data = T.root .. "/tests/fixtures/data/gbsg.csv", encoding = enc})
  T.eq(a.d.n, b.d.n)
  T.eq(table.concat(a.d.names, ","), table.concat(b.d.names, ","))
  for j, name in ipairs(b.d.names) do
    local x, y = a.d.X:col(name), b.d.X:col(name)
    for i = 1, b.d.n do
      if not (x[i] == y[i] or (x[i] ~= x[i] and y[i] ~= y[i])) then
        error(("%s row %d: %s vs %s"):format(name, i, tostring(x[i]), tostring(y[i])))
      end
    end
  end
  T.eq(sv.encode.read(X .. "gbsg.xlsx"):nrow(), 686)
  T.raises(function() sv.encode.read(X .. "no_workbook.xlsx") end, "not an Excel workbook")
end)

T.done()
