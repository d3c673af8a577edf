-- report.lua - assembling a study's report (sv.report).
--
-- A report is built from Lua (title, sections, text, tables, figures) and
-- written as report.md, a single self-contained report.html (inline CSS and
-- SVG, no external resources), every table as CSV, every figure as SVG and
-- the whole result as report.json, with a provenance block (sylva version,
-- the script and its SHA-256, input files and their SHA-256, seeds, options,
-- date). Everything is rendered in memory first, then every file is written
-- to a temporary name and only then renamed into place, so a failure leaves
-- the previous report intact.

local sv = require "sylva"
local args = require "sylva.args"
local M = {}

local isnan = args.isnan

---------------------------------------------------------------------------
-- JSON with a stable key order
---------------------------------------------------------------------------

-- Shortest "%.Ng" that reads back as the same double.
local function num_repr(x)
  if math.type(x) == "integer" then return string.format("%d", x) end
  if x == math.floor(x) and math.abs(x) < 2^53 then return string.format("%d", x) end
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end
M.number = num_repr

local ESC = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
             ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = #t
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n and (n > 0 or next(t) == nil)
end

local function json_value(v, out, indent, depth, seen)
  local t = type(v)
  if v == nil then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif t == "number" then
    if isnan(v) or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    else out[#out + 1] = num_repr(v) end
  elseif t == "string" then out[#out + 1] = json_string(v)
  elseif t == "userdata" then
    local mt = getmetatable(v)
    local name = mt and mt.__name
    if name == "sylva.Vector" then
      json_value(v:totable(), out, indent, depth, seen)
    elseif name == "sylva.Matrix" then
      json_value({names = v:names() or {}, rows = v:totable()}, out, indent, depth, seen)
    else
      error("report.json: cannot encode a " .. tostring(name or "userdata"), 0)
    end
  elseif t == "table" then
    if seen[v] then error("report.json: cycle in the data", 0) end
    seen[v] = true
    local pad = indent and ("\n" .. string.rep(indent, depth + 1)) or ""
    local close = indent and ("\n" .. string.rep(indent, depth)) or ""
    if is_array(v) then
      if #v == 0 then out[#out + 1] = "[]"
      else
        out[#out + 1] = "["
        for i = 1, #v do
          if i > 1 then out[#out + 1] = "," end
          out[#out + 1] = pad
          json_value(v[i], out, indent, depth + 1, seen)
        end
        out[#out + 1] = close .. "]"
      end
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" and math.type(k) ~= "integer" then
          error("report.json: object keys must be strings (got " .. type(k) .. ")", 0)
        end
        keys[#keys + 1] = tostring(k)
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = pad .. json_string(k) .. (indent and ": " or ":")
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        json_value(val, out, indent, depth + 1, seen)
      end
      out[#out + 1] = close .. "}"
    end
    seen[v] = nil
  else
    error("report.json: cannot encode a " .. t, 0)
  end
end

--- sv.report.json(value [, {indent = "  "}]) -> string
function M.json(v, opts)
  local out = {}
  local indent = opts and opts.indent
  json_value(v, out, indent, 0, {})
  return table.concat(out)
end

---------------------------------------------------------------------------
-- Tables
---------------------------------------------------------------------------

-- Normalises a table argument to {columns = {...}, rows = {{...}, ...}}.
-- Accepts {columns=, rows=} (rows as arrays or as records keyed by column
-- name), or an array of records with opts.columns (default: sorted keys).
local function normalise_table(t, opts)
  if type(t) ~= "table" then error("bad argument #1 to 'table' (table expected)", 3) end
  local columns, rows = t.columns or (opts and opts.columns), t.rows or t
  if not columns then
    local seen, keys = {}, {}
    for _, r in ipairs(rows) do
      for k in pairs(r) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    columns = keys
  end
  local out = {}
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then error(("report: table row %d is not a table"):format(i), 3) end
    local row = {}
    for j, c in ipairs(columns) do
      local v = r[j]
      if v == nil then v = r[c] end
      local tv = type(v)
      if not (v == nil or tv == "string" or tv == "number" or tv == "boolean") then
        error(("report: table cell (row %d, column '%s') is a %s"):format(i, tostring(c), tv), 3)
      end
      row[j] = v
    end
    out[i] = row
  end
  local cols = {}
  for j, c in ipairs(columns) do cols[j] = tostring(c) end
  return {columns = cols, rows = out}
end

-- Display of a number in md/html: integers as such, else `digits`
-- significant digits without exponent for ordinary magnitudes.
local function fmt_cell(v, digits)
  if v == nil then return "" end
  if type(v) == "boolean" then return v and "yes" or "no" end
  if type(v) == "string" then return v end
  if isnan(v) then return "NA" end
  if math.type(v) == "integer" or (v == math.floor(v) and math.abs(v) < 1e15) then
    return string.format("%d", v)
  end
  local a = math.abs(v)
  if a >= 10 ^ digits then return string.format("%.0f", v) end
  if a >= 1e-4 then
    local s = string.format("%." .. digits .. "g", v)
    if not s:find("e") then return s end
  end
  return string.format("%." .. (digits - 1) .. "e", v)
end
M.format = fmt_cell

-- Per column: the decimals that give `digits` significant digits to its
-- largest non-integer number, so that a column reads with one precision
-- (0.706, 0.730 rather than 0.706, 0.73). nil for columns without such
-- numbers.
local function column_decimals(rows, ncol, digits)
  local dec = {}
  for j = 1, ncol do
    local maxabs
    for _, r in ipairs(rows) do
      local v = r[j]
      if type(v) == "number" and not isnan(v) and v ~= math.floor(v) then
        maxabs = math.max(maxabs or 0, math.abs(v))
      end
    end
    if maxabs and maxabs > 0 and maxabs < 10 ^ digits then
      dec[j] = math.max(0, digits - 1 - math.floor(math.log(maxabs, 10)))
    end
  end
  return dec
end

local function table_cell(v, digits, decimals)
  if decimals and type(v) == "number" and not isnan(v) and (v ~= math.floor(v) or math.abs(v) < 1e15) then
    local s = string.format("%." .. decimals .. "f", v)
    if s:match("^%-0%.?0*$") then s = s:sub(2) end
    return s
  end
  return fmt_cell(v, digits)
end

local function csv_cell(v)
  if v == nil then return "" end
  if type(v) == "number" then
    if isnan(v) then return "NA" end
    return num_repr(v)
  end
  if type(v) == "boolean" then return v and "TRUE" or "FALSE" end
  if v:find('[",\r\n]') or v:match("^%s") or v:match("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

--- sv.report.csv(t) -> CSV text (RFC 4180, header line, CRLF-free)
function M.csv(t, opts)
  local tb = normalise_table(t, opts)
  local lines = {}
  local head = {}
  for j, c in ipairs(tb.columns) do head[j] = csv_cell(c) end
  lines[1] = table.concat(head, ",")
  for _, r in ipairs(tb.rows) do
    local cells = {}
    for j = 1, #tb.columns do cells[j] = csv_cell(r[j]) end
    lines[#lines + 1] = table.concat(cells, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------
-- The report object
---------------------------------------------------------------------------

local Report = {}
Report.__index = Report

local NEW_OPTS = {title = 1, script = 1, date = 1, digits = 1, subtitle = 1, authors = 1}

--- sv.report.new({title = ..., script = ..., date = ..., digits = 3}) -> report
function M.new(opts)
  opts = opts or {}
  if type(opts) == "string" then opts = {title = opts} end
  for k in pairs(opts) do
    if not NEW_OPTS[k] then error(("unknown option '%s' to report.new"):format(tostring(k)), 2) end
  end
  local script = opts.script
  if script == nil and type(arg) == "table" and type(arg[0]) == "string" then script = arg[0] end
  return setmetatable({
    title = opts.title or "Report", subtitle = opts.subtitle, authors = opts.authors,
    script = script, date = opts.date, digits = opts.digits or 3,
    blocks = {}, inputs = {}, seeds = {}, options = {}, values = {}, names = {},
  }, Report)
end

local function unique_name(self, base, kind)
  base = (base or kind):gsub("[^%w_%-]", "_")
  local name, k = base, 1
  while self.names[name] do k = k + 1; name = base .. "_" .. k end
  self.names[name] = true
  return name
end

--- rep:section(title [, level])
function Report:section(title, level)
  self.blocks[#self.blocks + 1] = {type = "section", title = tostring(title), level = level or 2}
  return self
end

--- rep:text(paragraph)
function Report:text(s)
  self.blocks[#self.blocks + 1] = {type = "text", text = tostring(s)}
  return self
end

-- A table or figure name names a file (tables/NAME.csv): "" would make the
-- hidden file tables/.csv, and a non-string cannot be a file name.
local function check_name(name, fname)
  if name ~= nil and (type(name) ~= "string" or name == "") then
    error(("bad argument #2 to '%s' (name must be a non-empty string, got %s)"):format(
      fname, name == "" and '""' or type(name)), 3)
  end
end

--- rep:table(t [, {caption=, name=, columns=, digits=}])
function Report:table(t, opts)
  opts = opts or {}
  check_name(opts.name, "table")
  local tb = normalise_table(t, opts)
  self.blocks[#self.blocks + 1] = {
    type = "table", name = unique_name(self, opts.name, "table"), caption = opts.caption,
    columns = tb.columns, rows = tb.rows, digits = opts.digits or self.digits,
    notes = opts.notes or t.notes,
  }
  return self
end

--- rep:figure(svg [, {caption=, name=}])
function Report:figure(svg, opts)
  opts = opts or {}
  check_name(opts.name, "figure")
  if type(svg) == "table" and svg.svg then svg = svg.svg end
  if type(svg) ~= "string" or not svg:find("<svg", 1, true) then
    error("bad argument #1 to 'figure' (SVG text expected)", 2)
  end
  self.blocks[#self.blocks + 1] = {
    type = "figure", name = unique_name(self, opts.name, "figure"), caption = opts.caption, svg = svg,
  }
  return self
end

--- rep:input(path [, label]): records an input file and its SHA-256
function Report:input(path, label)
  local ok, h = pcall(sv.sha256_file, path)
  if not ok then error(("report: input file %s"):format(tostring(h)), 2) end
  local f = io.open(path, "rb")
  local size = f and f:seek("end") or nil
  if f then f:close() end
  self.inputs[#self.inputs + 1] = {path = path, sha256 = h, bytes = size, label = label}
  return self
end

--- rep:seed(name, value)
function Report:seed(name, value)
  self.seeds[name] = value
  return self
end

--- rep:option(name, value)
function Report:option(name, value)
  self.options[name] = value
  return self
end

--- rep:value(name, v): any result to keep in report.json
function Report:value(name, v)
  self.values[name] = v
  return self
end

-- The date: opts.date, else SOURCE_DATE_EPOCH (reproducible builds), else now.
local function report_date(self)
  if self.date then return self.date end
  local epoch = tonumber(os.getenv("SOURCE_DATE_EPOCH") or "")
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch and math.floor(epoch) or os.time())
end

function Report:provenance()
  local p = {
    sylva = sv.version and sv.version() or sv._VERSION,
    lua = _VERSION,
    date = report_date(self),
    inputs = self.inputs,
    seeds = self.seeds,
    options = self.options,
  }
  if self.script then
    local ok, h = pcall(sv.sha256_file, self.script)
    p.script = {path = self.script, sha256 = ok and h or nil}
  end
  return p
end

---------------------------------------------------------------------------
-- Rendering
---------------------------------------------------------------------------

local xml_escape = args.xml_escape

local function md_escape_cell(s)
  return (s:gsub("|", "\\|"):gsub("\n", " "))
end

local function short_json(v)
  if type(v) == "table" or type(v) == "userdata" then return M.json(v) end
  if type(v) == "number" then return num_repr(v) end
  return tostring(v)
end

local function provenance_rows(p)
  local rows = {{"sylva", p.sylva}, {"Lua", p.lua}, {"date", p.date}}
  if p.script then rows[#rows + 1] = {"script", p.script.path .. "  (SHA-256 " .. (p.script.sha256 or "unreadable") .. ")"} end
  for _, f in ipairs(p.inputs) do
    rows[#rows + 1] = {"input" .. (f.label and (" (" .. f.label .. ")") or ""),
                       f.path .. "  (SHA-256 " .. f.sha256 .. ", " .. tostring(f.bytes) .. " bytes)"}
  end
  local keys = {}
  for k in pairs(p.seeds) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do rows[#rows + 1] = {"seed " .. k, short_json(p.seeds[k])} end
  keys = {}
  for k in pairs(p.options) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do rows[#rows + 1] = {"option " .. k, short_json(p.options[k])} end
  return rows
end

function Report:markdown(prov)
  local out = {"# " .. self.title, ""}
  if self.subtitle then out[#out + 1] = "_" .. self.subtitle .. "_"; out[#out + 1] = "" end
  if self.authors then out[#out + 1] = self.authors; out[#out + 1] = "" end
  local ntab, nfig = 0, 0
  for _, b in ipairs(self.blocks) do
    if b.type == "section" then
      out[#out + 1] = string.rep("#", math.min(b.level, 6)) .. " " .. b.title
      out[#out + 1] = ""
    elseif b.type == "text" then
      out[#out + 1] = b.text
      out[#out + 1] = ""
    elseif b.type == "table" then
      ntab = ntab + 1
      out[#out + 1] = ("**Table %d.** %s"):format(ntab, b.caption or b.name)
      out[#out + 1] = ""
      local head, sep = {}, {}
      for j, c in ipairs(b.columns) do head[j] = md_escape_cell(c); sep[j] = j == 1 and "---" or "---:" end
      out[#out + 1] = "| " .. table.concat(head, " | ") .. " |"
      out[#out + 1] = "|" .. table.concat(sep, "|") .. "|"
      local dec = column_decimals(b.rows, #b.columns, b.digits)
      for _, r in ipairs(b.rows) do
        local cells = {}
        for j = 1, #b.columns do cells[j] = md_escape_cell(table_cell(r[j], b.digits, dec[j])) end
        out[#out + 1] = "| " .. table.concat(cells, " | ") .. " |"
      end
      out[#out + 1] = ""
      if b.notes then out[#out + 1] = "_" .. b.notes .. "_"; out[#out + 1] = "" end
      out[#out + 1] = ("CSV: [tables/%s.csv](tables/%s.csv)"):format(b.name, b.name)
      out[#out + 1] = ""
    elseif b.type == "figure" then
      nfig = nfig + 1
      out[#out + 1] = ("![Figure %d](figures/%s.svg)"):format(nfig, b.name)
      out[#out + 1] = ""
      out[#out + 1] = ("**Figure %d.** %s"):format(nfig, b.caption or b.name)
      out[#out + 1] = ""
    end
  end
  out[#out + 1] = "## Provenance"
  out[#out + 1] = ""
  out[#out + 1] = "| item | value |"
  out[#out + 1] = "|---|---|"
  for _, r in ipairs(provenance_rows(prov)) do
    out[#out + 1] = "| " .. md_escape_cell(r[1]) .. " | `" .. md_escape_cell(r[2]) .. "` |"
  end
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

local CSS = [[
body { font-family: "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #1a1a1a;
       max-width: 980px; margin: 2em auto; padding: 0 1.5em; line-height: 1.5; font-size: 16px; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0 0.3em; font-size: 0.92em; }
.tcap { margin: 1.2em 0 0.2em; }
thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
th, td { padding: 0.25em 0.8em; text-align: right; vertical-align: top; }
td:not(:first-child) { white-space: nowrap; }
.tablewrap { overflow-x: auto; max-width: 100%; }
.nw { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.indent { padding-left: 2em; }
.tnote { font-size: 0.85em; color: #444; margin: 0 0 1.2em; }
.csv { font-size: 0.8em; }
figure { margin: 1.2em 0 1.8em; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.95em; margin-top: 0.4em; }
table.prov td { font-family: "DejaVu Sans Mono", monospace; font-size: 0.8em; text-align: left; word-break: break-all; }
table.prov th { text-align: left; white-space: nowrap; vertical-align: top; padding-right: 1.5em; }
table.prov td, table.prov th, table.prov tbody tr:last-child td { border: none; }
]]

-- An SVG for inline use: without its XML declaration.
local function inline_svg(svg)
  return (svg:gsub("^%s*<%?xml.-%?>%s*", ""))
end

function Report:html(prov)
  local out = {
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    '<title>' .. xml_escape(self.title) .. '</title>',
    '<style>' .. CSS .. '</style>',
    '</head>',
    '<body>',
    '<h1>' .. xml_escape(self.title) .. '</h1>',
  }
  if self.subtitle then out[#out + 1] = '<p class="subtitle">' .. xml_escape(self.subtitle) .. '</p>' end
  if self.authors then out[#out + 1] = '<p class="subtitle">' .. xml_escape(self.authors) .. '</p>' end
  local ntab, nfig = 0, 0
  for _, b in ipairs(self.blocks) do
    if b.type == "section" then
      local h = math.min(math.max(b.level, 2), 6)
      out[#out + 1] = ("<h%d>%s</h%d>"):format(h, xml_escape(b.title), h)
    elseif b.type == "text" then
      for para in (b.text .. "\n\n"):gmatch("(.-)\n%s*\n") do
        if para:match("%S") then out[#out + 1] = "<p>" .. xml_escape(para) .. "</p>" end
      end
    elseif b.type == "table" then
      ntab = ntab + 1
      out[#out + 1] = ('<p class="tcap"><b>Table %d.</b> %s</p>'):format(ntab, xml_escape(b.caption or b.name))
      out[#out + 1] = '<div class="tablewrap">'
      out[#out + 1] = ('<table id="%s">'):format(xml_escape(b.name))
      local head = {}
      for j, c in ipairs(b.columns) do
        -- a group size "(n = 336)" stays on one line when a header wraps
        local h = xml_escape(c):gsub("%((n = %d+)%)", '<span class="nw">(%1)</span>')
        head[j] = "<th>" .. h .. "</th>"
      end
      out[#out + 1] = "<thead><tr>" .. table.concat(head) .. "</tr></thead>"
      out[#out + 1] = "<tbody>"
      local dec = column_decimals(b.rows, #b.columns, b.digits)
      for _, r in ipairs(b.rows) do
        local cells = {}
        for j = 1, #b.columns do
          local s = table_cell(r[j], b.digits, dec[j])
          -- A first cell starting with spaces is a sub-row (a level under
          -- a variable): indented.
          if j == 1 and s:match("^%s+%S") then
            cells[j] = '<td class="indent">' .. xml_escape((s:gsub("^%s+", ""))) .. "</td>"
          else
            cells[j] = "<td>" .. xml_escape(s) .. "</td>"
          end
        end
        out[#out + 1] = "<tr>" .. table.concat(cells) .. "</tr>"
      end
      out[#out + 1] = "</tbody></table></div>"
      if b.notes then out[#out + 1] = '<p class="tnote">' .. xml_escape(b.notes) .. '</p>' end
      out[#out + 1] = ('<p class="csv">CSV: tables/%s.csv</p>'):format(xml_escape(b.name))
    elseif b.type == "figure" then
      nfig = nfig + 1
      out[#out + 1] = ('<figure id="%s">'):format(xml_escape(b.name))
      out[#out + 1] = inline_svg(b.svg)
      out[#out + 1] = ("<figcaption><b>Figure %d.</b> %s</figcaption>"):format(nfig, xml_escape(b.caption or b.name))
      out[#out + 1] = "</figure>"
    end
  end
  out[#out + 1] = "<h2>Provenance</h2>"
  out[#out + 1] = '<table class="prov"><tbody>'
  for _, r in ipairs(provenance_rows(prov)) do
    out[#out + 1] = "<tr><th>" .. xml_escape(r[1]) .. "</th><td>" .. xml_escape(r[2]) .. "</td></tr>"
  end
  out[#out + 1] = "</tbody></table>"
  out[#out + 1] = "</body>"
  out[#out + 1] = "</html>"
  return table.concat(out, "\n") .. "\n"
end

function Report:result(prov)
  local blocks = {}
  for i, b in ipairs(self.blocks) do
    if b.type == "figure" then
      blocks[i] = {type = "figure", name = b.name, caption = b.caption, file = "figures/" .. b.name .. ".svg",
                   sha256 = sv.sha256(b.svg)}
    else
      local c = {}
      for k, v in pairs(b) do c[k] = v end
      if b.type == "table" then c.file = "tables/" .. b.name .. ".csv"; c.digits = nil end
      blocks[i] = c
    end
  end
  return {format = "sylva-report", version = 1, title = self.title, subtitle = self.subtitle,
          provenance = prov, blocks = blocks, values = self.values}
end

---------------------------------------------------------------------------
-- Writing
---------------------------------------------------------------------------

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close(); return true end
  return false
end

local function mkdir(path)
  local ok = os.execute(("mkdir -p '%s' 2>/dev/null"):format(path:gsub("'", "'\\''")))
  if not ok then
    error(("report: cannot create directory '%s' (the previous report is left as it was)"):format(path), 0)
  end
end

local WRITE_OPTS = {formats = 1}

-- The files of a report: only these names are ever removed from a folder.
local OWNED = {"^report%.md$", "^report%.html$", "^report%.json$",
               "^tables/[%w_%-]+%.csv$", "^figures/[%w_%-]+%.svg$"}
local MANIFEST = ".sylva-report-files"

local function owned(rel)
  for _, pat in ipairs(OWNED) do
    if rel:match(pat) then return true end
  end
  return false
end

-- The files an earlier rep:write put in dir (paths relative to dir): the
-- list it left in dir/.sylva-report-files, else (a report written before
-- that list existed) the tables and figures its report.json names. A name
-- a report cannot have is ignored, so a user's own files are never touched.
local function previous_files(dir)
  local list = {}
  local f = io.open(dir .. "/" .. MANIFEST, "rb")
  if f then
    for line in f:lines() do
      if owned(line) then list[#list + 1] = line end
    end
    f:close()
    return list
  end
  f = io.open(dir .. "/report.json", "rb")
  if f then
    local s = f:read("a") or ""
    f:close()
    for rel in s:gmatch('"file"%s*:%s*"([^"]*)"') do
      if owned(rel) then list[#list + 1] = rel end
    end
  end
  return list
end

--- rep:write(dir [, {formats = {"md", "html", "json", "csv", "svg"}}]) -> {files}
--- ("xlsx" in formats adds tables.xlsx: every table as a sheet)
function Report:write(dir, opts)
  if type(dir) ~= "string" then error("bad argument #1 to 'write' (directory expected)", 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if not WRITE_OPTS[k] then error(("unknown option '%s' to report.write"):format(tostring(k)), 2) end
  end
  local want = {}
  for _, f in ipairs(opts.formats or {"md", "html", "json", "csv", "svg"}) do want[f] = true end

  -- 1. Render everything in memory: an error here writes nothing.
  local prov = self:provenance()
  local files = {}
  if want.md then files[#files + 1] = {"report.md", self:markdown(prov)} end
  if want.html then files[#files + 1] = {"report.html", self:html(prov)} end
  if want.json then files[#files + 1] = {"report.json", M.json(self:result(prov), {indent = "  "}) .. "\n"} end
  local need_tables, need_figures = false, false
  local sheets, sheet_seen = {}, {}
  for _, b in ipairs(self.blocks) do
    if b.type == "table" and want.xlsx then
      -- one sheet per table in tables.xlsx: Excel's name rules (31
      -- characters, none of []:*?/\, unique ignoring case)
      local nm = b.name:gsub("[%[%]:%*%?/\\]", "_"):sub(1, 31)
      local base, k = nm, 1
      while sheet_seen[nm:lower()] do
        k = k + 1
        local suffix = "_" .. k
        nm = base:sub(1, 31 - #suffix) .. suffix
      end
      sheet_seen[nm:lower()] = true
      local tb = normalise_table(b)
      sheets[#sheets + 1] = {name = nm, columns = tb.columns, rows = tb.rows}
    end
    if b.type == "table" and want.csv then
      files[#files + 1] = {"tables/" .. b.name .. ".csv", M.csv(b)}
      need_tables = true
    elseif b.type == "figure" and want.svg then
      local svg = b.svg
      if not svg:match("^%s*<%?xml") then svg = '<?xml version="1.0" encoding="UTF-8"?>\n' .. svg end
      files[#files + 1] = {"figures/" .. b.name .. ".svg", svg}
      need_figures = true
    end
  end

  if #sheets > 0 then files[#files + 1] = {"tables.xlsx", nil, sheets} end

  -- The list of this report's files, staged with them; the files of an
  -- earlier report in dir that this one does not rewrite are removed
  -- after the renames (stale tables and figures would sit beside the new).
  local old = previous_files(dir)
  local new, listing = {}, {}
  for _, f in ipairs(files) do
    new[f[1]] = true
    listing[#listing + 1] = f[1] .. "\n"
  end
  local n_report = #files
  files[#files + 1] = {MANIFEST, table.concat(listing)}

  -- 2. Write each file to a temporary name beside its target (synced).
  mkdir(dir)
  if need_tables then mkdir(dir .. "/tables") end
  if need_figures then mkdir(dir .. "/figures") end
  local staged = {}
  for _, f in ipairs(files) do
    local target = dir .. "/" .. f[1]
    local tmp = target .. ".sylva-new"
    local ok, err
    if f[3] then
      ok, err = pcall(sv.write_xlsx, tmp, f[3])
    else
      ok, err = pcall(sv.write_atomic, tmp, f[2])
    end
    if not ok then
      for _, s in ipairs(staged) do os.remove(s[1]) end
      error(("report: %s (the previous report is left as it was)"):format(tostring(err)), 2)
    end
    staged[#staged + 1] = {tmp, target}
  end

  -- 3. Rename them into place.
  local written = {}
  for _, s in ipairs(staged) do
    local ok, err = os.rename(s[1], s[2])
    if not ok then
      for _, r in ipairs(staged) do if exists(r[1]) then os.remove(r[1]) end end
      error(("report: cannot rename into '%s': %s"):format(s[2], tostring(err)), 2)
    end
    written[#written + 1] = s[2]
  end
  written[n_report + 1] = nil -- the list itself is not a report file
  for _, rel in ipairs(old) do
    if not new[rel] then
      os.remove(dir .. "/" .. rel)
      os.remove(dir .. "/" .. rel .. ".sylva-new") -- staged by a write that was killed
    end
  end
  return written
end

return M
