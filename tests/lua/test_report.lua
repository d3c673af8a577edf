-- sv.report: md/html/json/csv/svg outputs, well-formed, self-contained,
-- byte-stable, provenance with SHA-256, atomic replacement.
local T = require "testing"
local sv = require "sylva"
local R = sv.report

local tmp = T.tmp .. "/report"
os.execute("rm -rf '" .. tmp .. "' && mkdir -p '" .. tmp .. "'")

local function sh(cmd)
  local p = io.popen(cmd)
  local s = p:read("a")
  p:close()
  return s
end

T.test("JSON: stable key order, escapes, NaN as null, Vectors and Matrices", function()
  T.eq(R.json({b = 1, a = {3, 2.5, "x"}, c = true}), '{"a":[3,2.5,"x"],"b":1,"c":true}')
  T.eq(R.json({s = 'q"\\\n\t\1'}), '{"s":"q\\"\\\\\\n\\t\\u0001"}')
  T.eq(R.json({0 / 0, math.huge, 0.1}), "[null,null,0.1]")
  T.eq(R.json(sv.vector({1, 0.5})), "[1,0.5]")
  T.eq(R.json(sv.matrix({{1, 2}}, {"u", "v"})), '{"names":["u","v"],"rows":[[1,2]]}')
  T.eq(R.json({}), "[]")
  -- shortest round-trip digits
  T.eq(R.json({1 / 3}), "[0.3333333333333333]")
  T.eq(tonumber(R.json({1 / 3}):sub(2, -2)), 1 / 3)
  T.raises(function() R.json({f = print}) end, "cannot encode a function")
  local cyc = {}; cyc.self = cyc
  T.raises(function() R.json(cyc) end, "cycle")
end)

T.test("CSV: header, RFC 4180 quoting, full-precision numbers, NA", function()
  local csv = R.csv({columns = {"name", "value"}, rows = {{"a,b", 0.1}, {'say "hi"', 0 / 0}, {"plain", 3}}})
  T.eq(csv, 'name,value\n"a,b",0.1\n"say ""hi""",NA\nplain,3\n')
  -- records with explicit columns
  T.eq(R.csv({{x = 1, y = "u"}, {x = 2}}, {columns = {"y", "x"}}), "y,x\nu,1\n,2\n")
end)

T.test("table cells are formatted for reading in md/html", function()
  T.eq(R.format(0.81234, 3), "0.812")
  T.eq(R.format(12, 3), "12")
  T.eq(R.format(12345.6, 3), "12346")
  T.eq(R.format(0.0000123, 3), "1.23e-05")
  T.eq(R.format(0 / 0, 3), "NA")
end)

T.test("a table column reads with one precision in md and html", function()
  local rep = R.new({title = "t", date = "2026-01-01T00:00:00Z"})
  -- largest non-integer 0.737 -> 3 significant digits = 3 decimals; 0.0740 column -> 4
  rep:table({columns = {"k", "AUC", "SD"}, rows = {{1, 0.706, 0.074}, {2, 0.73, 0.0618}}}, {name = "t"})
  local md = rep:markdown(rep:provenance())
  T.ok(md:find("| 2 | 0.730 | 0.0618 |", 1, true), md)
  T.ok(md:find("| 1 | 0.706 | 0.0740 |", 1, true), md)
  T.ok(rep:html(rep:provenance()):find("<td>0.730</td>", 1, true))
end)

-- A small report with every kind of block.
local function build(date, extra_text)
  local rep = R.new({title = "Test <report> & co", date = date, script = T.root .. "/tests/lua/test_report.lua"})
  rep:input(T.root .. "/tests/fixtures/data/gbsg.csv", "cohort")
  rep:seed("split", 42)
  rep:option("trees", 500)
  rep:section("Results")
  rep:text("First paragraph with <angle> & ampersand.\n\nSecond paragraph." .. (extra_text or ""))
  rep:table({columns = {"Variable", "Train", "Test"}, rows = {{"Age", 50.5, 49.25}, {"  Grade 1", "10 (5%)", "4 (4%)"}}},
    {name = "table1", caption = "Baseline"})
  rep:figure(sv.plot.roc({{name = "M", fpr = {0, 0.5, 1}, tpr = {0, 0.9, 1}, auc = 0.7}}), {name = "roc", caption = "ROC"})
  rep:value("auc", {train = 0.81, test = 0.77})
  return rep
end

T.test("write: md, html, json, one CSV per table, one SVG per figure", function()
  local files = build("2026-01-01T00:00:00Z"):write(tmp .. "/a")
  T.eq(#files, 5)
  for _, f in ipairs({"report.md", "report.html", "report.json", "tables/table1.csv", "figures/roc.svg"}) do
    T.ok(io.open(tmp .. "/a/" .. f), f .. " exists")
  end
  -- a cell with leading spaces is quoted so that every reader keeps them
  T.eq(T.read_file(tmp .. "/a/tables/table1.csv"), 'Variable,Train,Test\nAge,50.5,49.25\n"  Grade 1",10 (5%),4 (4%)\n')
  local md = T.read_file(tmp .. "/a/report.md")
  T.ok(md:find("# Test <report> & co", 1, true))
  T.ok(md:find("| Age | 50.5 | 49.2 |", 1, true) or md:find("| Age | 50.5 | 49.25 |", 1, true), md)
  T.ok(md:find("![Figure 1](figures/roc.svg)", 1, true))
  T.ok(md:find("## Provenance", 1, true))
end)

T.test("the HTML and SVG are well-formed XML and the HTML needs nothing outside itself", function()
  for _, f in ipairs({"report.html", "figures/roc.svg"}) do
    T.ok(os.execute("xmllint --noout '" .. tmp .. "/a/" .. f .. "'"), f .. " well-formed")
  end
  local html = T.read_file(tmp .. "/a/report.html")
  T.ok(not html:find("<script", 1, true), "no script")
  T.ok(not html:find("<link", 1, true), "no stylesheet link")
  T.ok(not html:find("src=", 1, true), "no external source")
  T.ok(not html:find("href=", 1, true), "no link to anything")
  T.ok(html:find("<svg", 1, true), "figure embedded")
  T.ok(html:find("&lt;angle&gt; &amp; ampersand", 1, true), "text escaped")
  T.eq(select(2, html:gsub("<p>", "")), 2, "two text paragraphs")
  T.ok(html:find('<td class="indent">Grade 1</td>', 1, true), "sub-rows indented")
end)

T.test("provenance: version, script and input SHA-256 equal sha256sum's", function()
  local js = T.read_file(tmp .. "/a/report.json")
  local input = T.root .. "/tests/fixtures/data/gbsg.csv"
  -- sha256sum is coreutils (always there): the digests are checked against
  -- it, never against sylva's own sha256 (which would compare it with itself)
  local want = sh("sha256sum '" .. input .. "'"):match("^(%x+)")
  T.ok(want, "sha256sum output")
  T.ok(js:find('"sha256": "' .. want .. '"', 1, true), "input digest")
  local want_script = sh("sha256sum '" .. T.root .. "/tests/lua/test_report.lua'"):match("^(%x+)")
  T.ok(want_script and js:find(want_script, 1, true), "script digest")
  T.eq(sv.sha256_file(input), want)
  T.ok(js:find('"sylva": "' .. sv.version() .. '"', 1, true), "version")
  T.ok(js:find('"split": 42', 1, true), "seed")
  T.ok(js:find('"trees": 500', 1, true), "option")
  T.ok(js:find('"date": "2026-01-01T00:00:00Z"', 1, true), "date")
  local html = T.read_file(tmp .. "/a/report.html")
  T.ok(html:find(want, 1, true), "digest shown in the HTML")
  -- JSON is valid: parsed by the harness's own reader (independent of
  -- sylva's writer), always, rather than only when python3 is installed
  local ok, doc = pcall(T.json_decode, js)
  T.ok(ok and type(doc) == "table", "valid JSON: " .. tostring(doc))
end)

T.test("the same report written twice is byte-identical", function()
  build("2026-01-01T00:00:00Z"):write(tmp .. "/b")
  for _, f in ipairs({"report.md", "report.html", "report.json", "tables/table1.csv", "figures/roc.svg"}) do
    T.eq(sv.sha256_file(tmp .. "/b/" .. f), sv.sha256_file(tmp .. "/a/" .. f), f)
  end
end)

T.test("SOURCE_DATE_EPOCH is not needed when the date is given; the date otherwise is ISO 8601 UTC", function()
  local rep = R.new({title = "x"})
  local p = rep:provenance()
  T.ok(p.date:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), p.date)
end)

T.test("a failure while rendering writes nothing: the previous report is intact", function()
  local before = T.read_file(tmp .. "/a/report.md")
  local rep = build("2026-01-01T00:00:00Z", " changed")
  -- a cell that cannot be rendered, smuggled in after the table was checked
  rep.blocks[3].rows[1][2] = {}
  T.raises(function() rep:write(tmp .. "/a") end)
  T.eq(T.read_file(tmp .. "/a/report.md"), before)
end)

T.test("a failure while writing leaves the previous report intact and no temporary files", function()
  build("2026-01-01T00:00:00Z"):write(tmp .. "/c")
  local before = T.read_file(tmp .. "/c/report.md")
  -- tables/ replaced by a plain file: the CSV cannot be written
  os.execute("rm -rf '" .. tmp .. "/c/tables' && touch '" .. tmp .. "/c/tables'")
  local err = T.raises(function() build("2026-01-01T00:00:00Z", " changed"):write(tmp .. "/c") end)
  T.ok(err:find("previous report", 1, true) or err:find("directory", 1, true), err)
  T.eq(T.read_file(tmp .. "/c/report.md"), before)
  local left = sh("ls -a '" .. tmp .. "/c' '" .. tmp .. "/c/figures' 2>/dev/null")
  T.ok(not left:find("sylva-new", 1, true), "no temporary file left: " .. left)
  T.ok(not left:find("%.tmp%w%w%w%w%w%w"), "no temporary file left: " .. left)
end)

T.test("a failure after some files were staged removes them and keeps the old report", function()
  build("2026-01-01T00:00:00Z"):write(tmp .. "/e")
  local before = T.read_file(tmp .. "/e/report.md")
  -- The CSV's staging name is a directory: report.md/html/json are staged
  -- first, then writing the CSV fails; nothing may be renamed into place.
  os.execute("mkdir -p '" .. tmp .. "/e/tables/table1.csv.sylva-new/x'")
  T.raises(function() build("2026-01-01T00:00:00Z", " changed"):write(tmp .. "/e") end, "previous report")
  T.eq(T.read_file(tmp .. "/e/report.md"), before)
  local left = sh("ls -a '" .. tmp .. "/e'")
  T.ok(not left:find("report.md.sylva-new", 1, true), "staged files removed: " .. left)
  T.ok(not left:find("report.html.sylva-new", 1, true), "staged files removed: " .. left)
end)

T.test("a report written over an earlier one removes the earlier report's stale tables and figures only", function()
  -- regression: report:write kept the tables and figures of earlier
  -- reports in the folder, stale files beside the new ones
  local svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
  local function rep(tables, figures)
    local r = R.new({title = "t", date = "2026-01-01T00:00:00Z"})
    for _, n in ipairs(tables) do r:table({columns = {"a"}, rows = {{1}}}, {name = n}) end
    for _, n in ipairs(figures) do r:figure(svg, {name = n}) end
    return r
  end
  local dir = tmp .. "/stale"
  rep({"t1", "t2"}, {"f1"}):write(dir)
  -- files the user put there are not the report's
  local function put(rel) local f = assert(io.open(dir .. "/" .. rel, "wb")); f:write("mine"); f:close() end
  put("tables/mine.csv"); put("notes.txt"); put("figures/drawn.svg")
  put("tables/t2.csv.sylva-new") -- as a write killed before its renames leaves it
  local files = rep({"t1"}, {"f2"}):write(dir, {formats = {"md", "json", "csv", "svg"}})
  T.eq(#files, 4, "report.md, report.json, t1, f2 and nothing else returned")
  local function has(rel) return io.open(dir .. "/" .. rel) ~= nil end
  T.ok(has("tables/t1.csv") and has("figures/f2.svg"), "the new files")
  T.ok(not has("tables/t2.csv"), "stale table removed")
  T.ok(not has("tables/t2.csv.sylva-new"), "its staged copy too")
  T.ok(not has("figures/f1.svg"), "stale figure removed")
  T.ok(not has("report.html"), "the earlier report.html is not left beside the new report")
  T.ok(has("tables/mine.csv") and has("notes.txt") and has("figures/drawn.svg"), "the user's files are kept")
  -- a report written before the file list existed: its report.json names
  -- its tables and figures
  os.remove(dir .. "/.sylva-report-files")
  rep({"t3"}, {}):write(dir)
  T.ok(not has("tables/t1.csv") and not has("figures/f2.svg"), "found through report.json")
  T.ok(has("tables/t3.csv") and has("tables/mine.csv"), "new and user files kept")
end)

T.test("bad arguments are errors naming the function", function()
  T.raises(function() R.new({titel = "x"}) end, "unknown option 'titel' to report.new")
  local rep = R.new("t")
  T.raises(function() rep:figure("not svg") end, "bad argument #1 to 'figure'")
  -- regression: a table named "" became the hidden file tables/.csv
  T.raises(function() rep:table({columns = {"a"}, rows = {{1}}}, {name = ""}) end,
           "bad argument #2 to 'table' (name must be a non-empty string, got \"\")")
  T.raises(function() rep:figure('<svg xmlns="http://www.w3.org/2000/svg"></svg>', {name = 3}) end,
           "bad argument #2 to 'figure' (name must be a non-empty string, got number)")
  T.raises(function() rep:input("/nonexistent/file.csv") end, "/nonexistent/file.csv")
  T.raises(function() rep:table({columns = {"a"}, rows = {{print}}}) end, "is a function")
  T.raises(function() rep:write(tmp .. "/d", {format = {"md"}}) end, "unknown option 'format' to report.write")
end)

T.test("the sample report with every figure is well-formed", function()
  local out = tmp .. "/sample"
  local ok = os.execute(("SYLVA_ROOT='%s' '%s' '%s/examples/report_sample.lua' '%s' >/dev/null"):format(
    T.root, os.getenv("SYLVA_BIN") or "sylva", T.root, out))
  T.ok(ok, "sample ran")
  local figs = sh("ls '" .. out .. "/figures'")
  local n = 0
  for f in figs:gmatch("(%S+%.svg)") do
    n = n + 1
    T.ok(os.execute("xmllint --noout '" .. out .. "/figures/" .. f .. "'"), f)
  end
  T.eq(n, 9)
  T.ok(os.execute("xmllint --noout '" .. out .. "/report.html'"), "report.html")
end)

T.done()
