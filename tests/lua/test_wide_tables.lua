-- Wide clinical tables at the REPL (issue 19 item 3): every column name is
-- shown (print(d), d:names()), d:describe() summarises every column as R's
-- summary() does (numbers checked against R on the rotterdam cohort), and
-- tab completion works inside strings: d:col("Multi<TAB>, d:matrix({"a",
-- "Multi<TAB>, and a bare string completes the names of the session's
-- frames.
local T = require "testing"
local sv = require "sylva"

local BIN = assert(os.getenv("SYLVA_BIN"), "SYLVA_BIN not set")
local TMP = T.tmp .. "/wide"
os.execute(("mkdir -p %q"):format(TMP))

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function has(s, frag, what)
  if not s:find(frag, 1, true) then
    error(("%s: %q not found in:\n%s"):format(what or "output", frag, s), 2)
  end
end

-- 98 long names, as a real clinical export has
local function wide_frame()
  local cols, order = {}, {}
  for j = 1, 98 do
    local n = ("Clinical_baseline_variable_%02d_%s"):format(j, j % 5 == 0 and "category" or "value")
    cols[n] = (j % 5 == 0) and {"a", "b", false} or {j, j + 1, false}
    order[#order + 1] = n
  end
  cols["Multifocality_reported_by_radiologist"] = {7, 8, 9}
  order[#order + 1] = "Multifocality_reported_by_radiologist"
  return sv.frame(cols, order)
end

T.test("print(d) lists every column name with its type", function()
  local d = wide_frame()
  local s = tostring(d)
  for _, name in ipairs(d:names()) do
    if not s:find(name, 1, true) then
      -- the first columns are shown in the preview, cut with '~'
      T.ok(s:find(name:sub(1, 11), 1, true), name)
    end
  end
  has(s, "Clinical_baseline_variable_98_value <num>")
  has(s, "Clinical_baseline_variable_95_category <txt>")
  has(s, "Multifocality_reported_by_radiologist <num>")
  for line in s:gmatch("[^\n]+") do T.ok(#line <= 80, "line too wide: " .. line) end
end)

T.test("d:describe() equals R's per-column summaries (rotterdam)", function()
  local d = sv.read_csv(T.root .. "/tests/fixtures/data/rotterdam.csv")
  local r = sv.read_csv(T.root .. "/tests/fixtures/data/rotterdam_describe.csv", {na = {""}})
  local desc = d:describe()
  T.eq(#desc, d:ncol())
  T.eq(desc.nrow, d:nrow())
  local rname, rtype, rn, rmiss = r:col("name"), r:col("type"), r:col("n"), r:col("missing")
  for i = 1, r:nrow() do
    local e = desc[i]
    T.eq(e.name, rname[i]); T.eq(e.type, rtype[i])
    T.eq(e.n, rn[i], e.name); T.eq(e.missing, rmiss[i], e.name)
    if e.type == "number" then
      for _, k in ipairs({"mean", "sd", "median", "q1", "q3", "min", "max"}) do
        T.rel(e[k], r:col(k)[i], 1e-12, e.name .. " " .. k)
      end
    else
      local parts = {}
      for _, l in ipairs(e.levels) do parts[#parts + 1] = l.value .. "=" .. math.tointeger(l.count) end
      T.eq(table.concat(parts, "|"), r:col("levels")[i], e.name .. " levels")
    end
  end
end)

T.test("d:describe() counts missing values and prints every column", function()
  local d = wide_frame()
  local desc = d:describe()
  T.eq(#desc, 99)
  T.eq(desc[1].n, 2); T.eq(desc[1].missing, 1); T.eq(desc[1].mean, 1.5)
  T.eq(desc[5].type, "text"); T.eq(desc[5].missing, 1)
  T.eq(desc[5].levels[1].value, "a"); T.eq(desc[5].levels[1].count, 1)
  local s = tostring(desc)
  has(s, "99 columns, 3 rows")
  has(s, "Multifocality_reported_by_radio~") -- names cut at 32 characters
  local n = 0
  for _ in s:gmatch("\n") do n = n + 1 end
  T.eq(n, 100, "a header line, then one line per column")
  local empty = sv.frame({a = {false, false}})
  has(tostring(empty:describe()), "all missing")
end)

T.test("the REPL shows every name of d:names()", function()
  local repl = require "sylva.repl"
  local s = repl.format(wide_frame():names())
  for j = 1, 98 do has(s, ("_%02d_"):format(j)) end
  has(s, "Multifocality_reported_by_radiologist")
  T.ok(not s:find("more)", 1, true), "no elision")
  local nested = repl.format({{1}, {2}})
  T.eq(nested, "{{1}, {2}}")
end)

T.test("completion inside strings: the frame's columns", function()
  local repl = require "sylva.repl"
  _G.wide = wide_frame()
  local m = repl.complete("Multi", 'print(wide:col("', '"')
  T.eq(#m, 1); T.eq(m[1], "Multifocality_reported_by_radiologist")
  m = repl.complete("Multi", 'X = wide:matrix({"Clinical_baseline_variable_01_value", "', '"')
  T.eq(m[1], "Multifocality_reported_by_radiologist")
  m = repl.complete("Clinical_baseline_variable_9", 'wide:col("', '"')
  T.eq(m[1], "Clinical_baseline_variable_9", "common prefix first")
  T.eq(#m, 9 + 1) -- _90 to _98, after the common prefix
  -- a string that is not an argument of a frame's method: every frame's names
  m = repl.complete("Multi", 'enc = {col = "', '"')
  T.eq(m[1], "Multifocality_reported_by_radiologist")
  -- a frame's method with a non-string argument before: still names
  m = repl.complete("Multi", "f(wide:col('", "'")
  T.eq(m[1], "Multifocality_reported_by_radiologist")
  _G.wide = nil
  m = repl.complete("Multi", 'x = "', '"')
  T.eq(#m, 0)
end)

local function have_script()
  return os.execute("command -v script > /dev/null 2>&1")
end

if not have_script() then
  print("skipping the pseudo-terminal test: util-linux 'script' not found")
else
  T.test("REPL on a terminal: TAB completes a column name inside d:col(\"", function()
    local home = TMP .. "/home"
    os.execute(("rm -rf %q; mkdir -p %q"):format(home, home))
    local csv = {}
    local header = {}
    for j = 1, 30 do header[#header + 1] = ("Baseline_measurement_%02d"):format(j) end
    header[#header + 1] = "Multifocality_reported_by_radiologist"
    csv[1] = table.concat(header, ",")
    local row = {}
    for j = 1, 31 do row[j] = tostring(j) end
    csv[2] = table.concat(row, ",")
    local path = write(TMP .. "/wide.csv", table.concat(csv, "\n") .. "\n")
    local driver = write(TMP .. "/drive.sh", table.concat({
      "sleep 0.3",
      ("printf 'd = sv.read_csv(\"%s\")\\n'"):format(path), "sleep 0.3",
      "printf 'print(\"got\", d:col(\"Multif\\t'", "sleep 0.5",
      "printf ')[1])\\n'", "sleep 0.5",
      "printf '\\004'",
    }, "\n") .. "\n")
    local cmd = ("HOME=%q; TERM=dumb; SHELL=/bin/sh; export HOME TERM SHELL; sh %q | timeout 60 script -qfec %q /dev/null"):format(
      home, driver, "exec " .. ("%q"):format(BIN))
    local ok = os.execute(("( %s ) > %q 2>&1"):format(cmd, TMP .. "/out.txt"))
    local out = read(TMP .. "/out.txt"):gsub("\r", "")
    T.ok(ok, "exit status; output:\n" .. out)
    has(out, 'd:col("Multifocality_reported_by_radiologist")', "the completed line")
    has(out, "got\t31")
  end)
end

T.done()
