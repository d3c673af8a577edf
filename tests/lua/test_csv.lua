-- sv.read_csv, sv.parse_csv, sv.frame and the Frame methods, on the real
-- cohorts and on small files worked by hand.
local T = require "testing"
local sv = require "sylva"

local DATA = T.root .. "/tests/fixtures/data/"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Bit-level equality of two doubles, -0 differing from 0; any NaN equals
-- any NaN (a missing value has no sign or payload to keep).
local function same_bits(a, b)
  if a ~= a and b ~= b then return true end
  return string.pack("<d", a) == string.pack("<d", b)
end

-- Two frames hold the same names, types and cells (numbers bit for bit).
local function assert_same_frame(a, b)
  T.eq(a:nrow(), b:nrow(), "nrow")
  T.eq(a:ncol(), b:ncol(), "ncol")
  local na, nb = a:names(), b:names()
  local ta, tb = a:types(), b:types()
  for j = 1, a:ncol() do
    T.eq(na[j], nb[j], "name " .. j)
    T.eq(ta[j], tb[j], "type of " .. na[j])
    local ca, cb = a:col(j), b:col(j)
    for i = 1, a:nrow() do
      if ta[j] == "number" then
        if not same_bits(ca[i], cb[i]) then
          error(("%s[%d]: %.17g vs %.17g"):format(na[j], i, ca[i], cb[i]), 2)
        end
      elseif ca[i] ~= cb[i] then
        error(("%s[%d]: %s vs %s"):format(na[j], i, tostring(ca[i]), tostring(cb[i])), 2)
      end
    end
  end
end

T.test("gbsg: shape, names, and the first record by hand", function()
  local d = sv.read_csv(DATA .. "gbsg.csv")
  T.eq(d:nrow(), 686)
  T.eq(d:ncol(), 11)
  T.eq(table.concat(d:names(), ","), "pid,age,meno,size,grade,nodes,pgr,er,hormon,rfstime,status")
  -- first record: 132,49,0,18,2,2,0,0,0,1838,0
  T.eq(d:col("pid")[1], 132)
  T.eq(d:col("rfstime")[1], 1838)
  T.eq(d:col(11)[2], 1)
  T.ok(getmetatable(d:col("age")).__name == "sylva.Vector", "numeric column is a Vector")
end)

-- The oracle: a plain Lua splitter (testing.lua) and Lua's tonumber
-- (strtod, correctly rounded) on files without quoted commas.
for _, file in ipairs({"gbsg.csv", "wdbc.csv"}) do
  T.test(file .. ": every cell equals tonumber of the raw text, bit for bit", function()
    local d = sv.read_csv(DATA .. file)
    local cols, names = T.read_fixture(DATA .. file)
    for j, name in ipairs(names) do
      local key = name:gsub('^"(.*)"$', "%1")
      local c = d:col(key)
      T.eq(#c, #cols[name])
      for i = 1, #c do
        if not same_bits(c[i], cols[name][i]) then
          error(("%s[%d]: %.17g vs %.17g"):format(key, i, c[i], cols[name][i]))
        end
      end
    end
  end)
end

T.test("rotterdam: quoted header, text column with quoted values", function()
  local d = sv.read_csv(DATA .. "rotterdam.csv")
  T.eq(d:nrow(), 2982)
  T.eq(d:names()[1], "pid")
  local size = d:col("size")
  T.eq(type(size), "table")
  T.eq(size[1], "<=20")
  T.eq(size[2], "20-50")
  T.eq(d:types()[5], "text")
  T.eq(d:types()[6], "number")
end)

for _, file in ipairs({"gbsg.csv", "wdbc.csv", "rotterdam.csv"}) do
  T.test(file .. ": write_csv then read_csv gives the same frame", function()
    local d = sv.read_csv(DATA .. file)
    local out = T.tmp .. "/rt_" .. file
    d:write_csv(out)
    assert_same_frame(sv.read_csv(out), d)
  end)
end

T.test("round trip of random doubles, NaN, infinities, -0 and tricky text", function()
  local r = sv.rng(11)
  local n = 3000
  local x, y, s = {}, {}, {}
  local words = {"plain", "a,b", 'say "hi"', "two\nlines", "cr\r\nlf", "", "NA",
                 " pad ", "\u{e9}t\u{e9}", "12"}
  for i = 1, n do
    local v = string.unpack("<d", string.pack("<i8", r:u64()))
    if v ~= v then v = 0.5 end
    x[i] = v
    y[i] = r:normal() * 10 ^ r:integer(-300, 300)
    s[i] = words[(i - 1) % #words + 1]
    if i % 13 == 0 then s[i] = false end
  end
  x[1], x[2], x[3], x[4] = -0.0, math.huge, -math.huge, 0 / 0
  local d = sv.frame({x = x, y = y, s = s}, {"s", "x", "y"})
  local out = T.tmp .. "/rt_random.csv"
  d:write_csv(out)
  local e = sv.read_csv(out)
  assert_same_frame(e, d)
  T.ok(e:col("x")[4] ~= e:col("x")[4], "NaN reads back as missing (NaN)")
  T.eq(e:col("s")[6], "")
  T.eq(e:col("s")[7], "NA")
  T.eq(e:col("s")[13], false)
  -- the same with another separator and NA string
  d:write_csv(out, {sep = ";", na = "."})
  assert_same_frame(sv.read_csv(out, {sep = ";", na = {"."}}), d)
end)

T.test("numbers are written in the shortest form that reads back", function()
  local d = sv.frame({v = {0.1, 1838, 0.1 + 0.2, 1e300, -2.5}})
  local out = T.tmp .. "/short.csv"
  d:write_csv(out)
  T.eq(T.read_file(out), "v\n0.1\n1838\n0.30000000000000004\n1e+300\n-2.5\n")
end)

T.test("text cells are quoted only when needed (RFC 4180)", function()
  local d = sv.frame({a = {"x", "y,z", 'q"', "", "NA", false}, ["b c"] = {1, 2, 3, 4, 5, 0 / 0}}, {"a", "b c"})
  local out = T.tmp .. "/quote.csv"
  d:write_csv(out)
  T.eq(T.read_file(out), 'a,b c\nx,1\n"y,z",2\n"q""",3\n"",4\n"NA",5\nNA,NA\n')
end)

T.test("options: separator, NA strings, no header", function()
  local d = sv.parse_csv("a;b\n1,5;-999\n2;x\n", {sep = ";", na = {"-999"}})
  T.eq(d:types()[1], "text") -- "1,5" is not a number
  T.eq(d:col("a")[1], "1,5")
  T.eq(d:col("b")[1], false)
  d = sv.parse_csv("1\t2\n3\t4\n", {sep = "\t", header = false})
  T.eq(table.concat(d:names(), ","), "V1,V2")
  T.eq(d:nrow(), 2)
  T.eq(d:col("V2")[2], 4)
  d = sv.parse_csv("x\n1\nNA\n\n3\n")
  T.eq(d:nrow(), 3) -- the blank line is skipped
  T.ok(d:col("x")[2] ~= d:col("x")[2], "NA is NaN")
end)

T.test("bad options are errors naming the option", function()
  T.raises(function() sv.read_csv(DATA .. "gbsg.csv", {seperator = ";"}) end,
           "unknown option 'seperator' to read_csv")
  T.raises(function() sv.parse_csv("a\n1\n", {sep = ";;"}) end, "bad option 'sep' to parse_csv")
  T.raises(function() sv.parse_csv("a\n1\n", {sep = '"'}) end, "bad option 'sep'")
  T.raises(function() sv.parse_csv("a\n1\n", {na = "NA"}) end, "bad option 'na'")
  T.raises(function() sv.parse_csv("a\n1\n", {na = {1}}) end, "bad option 'na'")
  T.raises(function() sv.parse_csv("a\n1\n", {header = 1}) end, "bad option 'header'")
  T.raises(function() sv.read_csv() end, "bad argument #1 to 'read_csv'")
end)

T.test("file errors name the file, the line and the column", function()
  local p = T.tmp .. "/bad.csv"
  write(p, "a,b,c\n1,2,3\n4,5\n")
  T.raises(function() sv.read_csv(p) end, p .. ": line 3, column 3 (c): the record has 2 fields, expected 3")
  write(p, "a,b\n1,\"open\n2,3\n")
  T.raises(function() sv.read_csv(p) end, p .. ": line 2, column 2 (b): unterminated quoted field")
  write(p, "")
  T.raises(function() sv.read_csv(p) end, p .. ": empty file")
  write(p, "x,y,x\n1,2,3\n")
  T.raises(function() sv.read_csv(p) end, "line 1, column 3 (x): duplicate column name 'x' (also column 1)")
  write(p, "a,b\n1,2\n\0\1\2\3")
  T.raises(function() sv.read_csv(p) end, "NUL byte")
  T.raises(function() sv.read_csv(T.tmp .. "/does_not_exist.csv") end, "No such file or directory")
  T.raises(function() sv.read_csv(T.tmp) end, "directory")
  T.raises(function() sv.parse_csv('a\n"x"y\n') end, "line 2, column 1 (a): unexpected 'y' after a closing quote")
end)

T.test("write_csv: atomic, errors name the path", function()
  local d = sv.frame({a = {1, 2}})
  T.raises(function() d:write_csv(T.tmp .. "/no/such/dir/x.csv") end, T.tmp .. "/no/such/dir/x.csv")
  T.raises(function() d:write_csv(T.tmp .. "/x.csv", {quote = true}) end, "unknown option 'quote' to write_csv")
  T.raises(function() d:write_csv(T.tmp .. "/x.csv", {sep = "\n"}) end, "bad option 'sep' to write_csv")
  local out = T.tmp .. "/atomic.csv"
  write(out, "old\n")
  d:write_csv(out)
  T.eq(T.read_file(out), "a\n1\n2\n")
end)

T.test("matrix(): named numeric columns in order; text or unknown names are errors", function()
  local d = sv.read_csv(DATA .. "rotterdam.csv")
  local M = d:matrix({"nodes", "age"})
  T.eq(M:nrow(), 2982)
  T.eq(M:ncol(), 2)
  T.eq(table.concat(M:names(), ","), "nodes,age")
  T.eq(M:get(1, "age"), 74) -- first record: 1,1992,74,...
  T.raises(function() d:matrix({"age", "size"}) end, "column 'size' is text, not numeric")
  T.raises(function() d:matrix({"age", "weight"}) end, "no column named 'weight'")
  T.raises(function() d:matrix() end, "column 'size' is text")
  local g = sv.read_csv(DATA .. "gbsg.csv"):matrix()
  T.eq(g:ncol(), 11)
  T.eq(g:names()[11], "status")
end)

T.test("col() returns a copy; unknown columns are errors", function()
  local d = sv.parse_csv("a,s\n1,x\n2,y\n")
  local a = d:col("a")
  a[1] = 99
  T.eq(d:col("a")[1], 1)
  local s = d:col("s")
  s[1] = "changed"
  T.eq(d:col("s")[1], "x")
  T.raises(function() d:col("zz") end, "bad argument #1 to 'col' (no column named 'zz')")
  T.raises(function() d:col(3) end, "column 3 out of range [1, 2]")
  T.ok(d:has("s") and not d:has("zz") and not d:has(1))
end)

T.test("rows(), select(), add() make new frames and leave the old one alone", function()
  local d = sv.frame({x = {10, 20, 30}, s = {"a", false, "c"}}, {"x", "s"})
  local r = d:rows({3, 1, 3})
  T.eq(r:nrow(), 3)
  T.eq(r:col("x")[1], 30)
  T.eq(r:col("s")[2], "a")
  T.eq(r:col("s")[3], "c")
  T.eq(d:rows({}):nrow(), 0)
  T.raises(function() d:rows({0}) end, "index 1")
  T.raises(function() d:rows({1.5}) end, "not a row")
  local s = d:select({"s"})
  T.eq(s:ncol(), 1)
  T.eq(s:names()[1], "s")
  T.raises(function() d:select({"s", "s"}) end, "selected twice")
  T.raises(function() d:select({"q"}) end, "no column 'q'")
  local a = d:add("y", {1, 2, 3})
  T.eq(a:ncol(), 3)
  T.eq(d:ncol(), 2)
  T.eq(a:names()[3], "y")
  local b = a:add("x", sv.vector({7, 8, 9})) -- replaces in place
  T.eq(table.concat(b:names(), ","), "x,s,y")
  T.eq(b:col("x")[2], 8)
  T.eq(a:col("x")[2], 20)
  T.raises(function() d:add("z", {1, 2}) end, "column has 2 rows, the frame has 3")
end)

T.test("sv.frame: order, sorted names by default, type checks", function()
  local d = sv.frame({b = {1, 2}, a = {"u", "v"}})
  T.eq(table.concat(d:names(), ","), "a,b")
  T.eq(table.concat(d:types(), ","), "text,number")
  d = sv.frame({b = {1, false}, a = {"u", "v"}}, {"b", "a"})
  T.eq(d:names()[1], "b")
  T.ok(d:col("b")[2] ~= d:col("b")[2], "false in a numeric column is NaN")
  T.raises(function() sv.frame({a = {1, "x"}}) end, "column 'a' mixes numbers and strings")
  T.raises(function() sv.frame({a = {1, 2}, b = {1}}) end, "has 1 rows")
  T.raises(function() sv.frame({a = {1}}, {"a", "b"}) end, "'b' is not a column")
  T.raises(function() sv.frame({a = {1}, b = {2}}, {"a"}) end, "column 'b' is missing from the order")
  T.raises(function() sv.frame({a = {{}}}) end, "element 1 is table")
  T.raises(function() sv.frame({a = 5}) end, "column 'a' is a number")
  local m = sv.frame(sv.matrix({{1, 2}, {3, 4}}, {"p", "q"}))
  T.eq(m:col("q")[2], 4)
  T.eq(sv.frame({}):ncol(), 0)
end)

T.test("tostring shows the shape, names and first rows", function()
  local d = sv.read_csv(DATA .. "gbsg.csv")
  local s = tostring(d)
  T.ok(s:find("Frame: 686 rows x 11 columns", 1, true), s)
  T.ok(s:find("pid", 1, true) and s:find("rfstime", 1, true), s)
  T.ok(s:find("1838", 1, true), s)
  T.ok(s:find("680 more rows", 1, true), s)
  local t = tostring(sv.frame({s = {"a", false}}))
  T.ok(t:find("<NA>", 1, true), t)
end)

T.test("a BOM and CRLF line ends are handled like a plain file", function()
  local plain = sv.parse_csv("a,b\n1,x\n2,y\n")
  local windows = sv.parse_csv("\xEF\xBB\xBFa,b\r\n1,x\r\n2,y\r\n")
  assert_same_frame(windows, plain)
end)

T.test("CR-only line ends (Excel's CSV (Macintosh)) read as R and pandas read them", function()
  -- regression: this file read as 0 rows with CRs inside the column names
  local path = T.tmp .. "/mac.csv"
  local f = assert(io.open(path, "wb"))
  f:write("a,b\r1,x\r\r2,y\r")
  f:close()
  local mac = sv.read_csv(path)
  assert_same_frame(mac, sv.parse_csv("a,b\n1,x\n2,y\n"))
  local _, lines = mac:origin()
  T.eq(table.concat(lines, ","), "2,4")
end)

T.test("d:origin gives the file and the physical line of each row", function()
  local path = T.tmp .. "/origin.csv"
  local f = assert(io.open(path, "wb"))
  -- header on lines 1-2, row 1 on 3, blank 4, row 2 on 5-6, row 3 on 7
  f:write('id,"HER2\nstatus"\nP1,pos\n\nP2,"neg\r\nx"\r\nP3,neg')
  f:close()
  local d = sv.read_csv(path)
  local file, line = d:origin(2)
  T.eq(file, path); T.eq(line, 5)
  local _, lines = d:origin()
  T.eq(table.concat(lines, ","), "3,5,7")
  T.eq(select(2, d:rows({3, 1}):origin(1)), 7)
  T.eq(select(2, d:rows({3, 1}):origin(2)), 3)
  T.eq(select(2, d:select({"id"}):origin(3)), 7)
  T.eq(select(2, d:add("z", {1, 2, 3}):origin(1)), 3)
  T.eq(select("#", sv.frame({a = {1}}):origin(1)), 0)
  local p1, p2 = sv.parse_csv("a\n\n1\n"):origin(1)
  T.eq(p1, nil); T.eq(p2, 3)
  T.raises(function() d:origin(4) end, "row 4 out of range [1, 3]")
end)

T.done()
