-- plot.lua - journal figures as self-contained SVG text (sv.plot).
--
-- Every function takes numbers (or the results of sv.roc / sv.surv /
-- sv.shap) and returns the SVG document as a string; sv.plot.save writes it
-- atomically. No external resources: fonts are generic families, no images,
-- no scripts, no CSS files. Layout rules, chosen for readability at journal
-- column width: tick labels >= 14 px on a ~600 px figure, colour-blind-safe
-- colours (Okabe & Ito), legends placed in the emptiest corner of the panel
-- or outside it when every corner holds data, ticks at "nice" numbers.

local sv = require "sylva"
local M = {}
local args = require "sylva.args"
local isnan = args.isnan
local check_opts = args.opts

local floor, ceil, abs, max, min, log10 = math.floor, math.ceil, math.abs, math.max, math.min, math.log10

-- Okabe & Ito (2008) palette, yellow left out (unreadable as a line).
M.palette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}
local FONT = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
local FS_TICK, FS_LABEL, FS_LEGEND, FS_TITLE = 14, 16, 14, 17
local GREY = "#6b6b6b"

---------------------------------------------------------------------------
-- Small utilities
---------------------------------------------------------------------------

local function f2(x) -- coordinates: 2 decimals, no trailing zeros
  local s = string.format("%.2f", x)
  s = s:gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local esc = args.xml_escape

-- Rough text width in px for Arial-like fonts (average glyph ~0.56 em;
-- narrow and wide glyphs counted apart so labels do not collide).
local function text_width(s, fs)
  local w = 0
  for _, c in utf8.codes(tostring(s)) do
    local ch = utf8.char(c)
    if ch:match("[ilIj.,:;|!'()%[%]]") then w = w + 0.28
    elseif ch:match("[mwMW]") then w = w + 0.85
    elseif ch:match("[A-Z]") then w = w + 0.68
    elseif ch:match("[0-9]") then w = w + 0.56
    elseif c > 127 then w = w + 0.6
    else w = w + 0.52 end
  end
  return w * fs
end
M.text_width = text_width

local function tolist(v)
  if v == nil then return nil end
  if type(v) == "userdata" then return v:totable() end
  return v
end

-- A numeric argument as a list: an array or Vector of numbers (NaN allowed),
-- else an error naming the function and the argument.
local function numbers(v, fname, argn)
  if type(v) ~= "table" and not (type(v) == "userdata" and v.totable) then
    error(("bad argument #%d to '%s' (array or Vector of numbers expected, got %s)"):format(
      argn, fname, type(v)), 3)
  end
  local t = tolist(v)
  for i = 1, #t do
    if type(t[i]) ~= "number" then
      error(("bad argument #%d to '%s' (element %d is %s, number expected)"):format(
        argn, fname, i, type(t[i])), 3)
    end
  end
  return t
end

local function with_common(t)
  for _, k in ipairs({"width", "height", "title", "xlab", "ylab", "colors", "legend"}) do t[k] = 1 end
  return t
end

-- Heckbert's "nice numbers" (Graphics Gems, 1990).
local function nicenum(x, round)
  if x <= 0 then return 1 end
  local e = floor(log10(x))
  local f = x / 10 ^ e
  local nf
  if round then nf = f < 1.5 and 1 or f < 3 and 2 or f < 7 and 5 or 10
  else nf = f <= 1 and 1 or f <= 2 and 2 or f <= 5 and 5 or 10 end
  return nf * 10 ^ e
end

-- Ticks covering [lo, hi]: returns ticks, step, the widened lo/hi.
local function nice_ticks(lo, hi, n)
  n = n or 5
  if type(lo) ~= "number" or type(hi) ~= "number" or lo ~= lo or hi ~= hi
     or lo == math.huge or lo == -math.huge or hi == math.huge or hi == -math.huge then
    error("bad argument to 'plot.nice_ticks' (finite numbers lo, hi expected)", 2)
  end
  if math.type(n) ~= "integer" or n < 2 or n > 1000 then
    error("bad argument #3 to 'plot.nice_ticks' (tick count: an integer in [2, 1000] expected)", 2)
  end
  if not (hi > lo) then
    local d = lo == 0 and 1 or abs(lo) * 0.1
    lo, hi = lo - d, hi + d
  end
  local range = nicenum(hi - lo, false)
  local step = nicenum(range / (n - 1), true)
  local g0, g1 = floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step
  local ticks = {}
  local count = floor((g1 - g0) / step + 0.5)
  -- When hi - lo is below the precision of lo (hi = lo = 2^63) the step
  -- underflows the spacing of doubles and the count explodes.
  if not (count <= 10 * n) then
    error(("bad argument to 'plot.nice_ticks' (no ticks at a resolution of %g over [%g, %g])"):format(step, lo, hi), 2)
  end
  for k = 0, count do ticks[#ticks + 1] = g0 + k * step end
  return ticks, step, g0, g1
end
M.nice_ticks = nice_ticks

-- Ticks at nice numbers inside [lo, hi], the axis kept to the data range
-- (with its padding) rather than widened to the outer ticks.
local function data_ticks(lo, hi, n)
  local t, step = nice_ticks(lo, hi, n + 2)
  local inside = {}
  for _, v in ipairs(t) do if v >= lo - 1e-9 * abs(step) and v <= hi + 1e-9 * abs(step) then inside[#inside + 1] = v end end
  if #inside < 3 then return t, step, t[1], t[#t] end
  return inside, step, lo, hi
end

local function tick_label(x, step)
  local dec = max(0, -floor(log10(step) + 1e-9))
  local s = string.format("%." .. dec .. "f", x)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return (s:gsub("^%-", "\u{2212}"))
end

---------------------------------------------------------------------------
-- The SVG document and a plotting panel
---------------------------------------------------------------------------

local Doc = {}
Doc.__index = Doc

local function new_doc(w, h, title)
  local d = setmetatable({w = w, h = h, parts = {}}, Doc)
  d:add(('<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>'):format(f2(w), f2(h)))
  d.title = title
  return d
end

function Doc:add(s) self.parts[#self.parts + 1] = s end

function Doc:text(x, y, s, o)
  o = o or {}
  local attrs = {('x="%s" y="%s"'):format(f2(x), f2(y))}
  if o.anchor then attrs[#attrs + 1] = ('text-anchor="%s"'):format(o.anchor) end
  if o.size then attrs[#attrs + 1] = ('font-size="%s"'):format(o.size) end
  if o.weight then attrs[#attrs + 1] = ('font-weight="%s"'):format(o.weight) end
  if o.fill then attrs[#attrs + 1] = ('fill="%s"'):format(o.fill) end
  if o.baseline then attrs[#attrs + 1] = ('dominant-baseline="%s"'):format(o.baseline) end
  if o.rotate then attrs[#attrs + 1] = ('transform="rotate(%s %s %s)"'):format(o.rotate, f2(x), f2(y)) end
  if o.class then attrs[#attrs + 1] = ('class="%s"'):format(o.class) end
  if o.style then attrs[#attrs + 1] = ('font-style="%s"'):format(o.style) end
  self:add("<text " .. table.concat(attrs, " ") .. ">" .. esc(s) .. "</text>")
end

function Doc:line(x1, y1, x2, y2, o)
  o = o or {}
  self:add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>'):format(
    f2(x1), f2(y1), f2(x2), f2(y2), o.stroke or "#000", o.width or 1,
    o.dash and (' stroke-dasharray="%s"'):format(o.dash) or ""))
end

function Doc:render()
  local head = ('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" ' ..
    'font-family="%s" font-size="%d" role="img">'):format(
    f2(self.w), f2(self.h), f2(self.w), f2(self.h), esc(FONT), FS_TICK)
  local out = {'<?xml version="1.0" encoding="UTF-8"?>', head}
  if self.title then out[#out + 1] = "<title>" .. esc(self.title) .. "</title>" end
  for _, p in ipairs(self.parts) do out[#out + 1] = p end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n") .. "\n"
end

-- A panel maps data to pixels: x in [xmin, xmax] -> [x0, x0 + w], y
-- upwards. `points` collects pixel positions of data for legend placement.
local Panel = {}
Panel.__index = Panel

local function new_panel(doc, x0, y0, w, h, xr, yr)
  return setmetatable({doc = doc, x0 = x0, y0 = y0, w = w, h = h,
    xmin = xr[1], xmax = xr[2], ymin = yr[1], ymax = yr[2], points = {}}, Panel)
end

function Panel:sx(x) return self.x0 + (x - self.xmin) / (self.xmax - self.xmin) * self.w end
function Panel:sy(y) return self.y0 + self.h - (y - self.ymin) / (self.ymax - self.ymin) * self.h end

function Panel:note(px, py) self.points[#self.points + 1] = {px, py} end

-- Liang-Barsky: the part of segment (a, b) inside the panel's data box.
local function clip_segment(p, ax, ay, bx, by)
  local t0, t1 = 0, 1
  local dx, dy = bx - ax, by - ay
  local checks = {{-dx, ax - p.xmin}, {dx, p.xmax - ax}, {-dy, ay - p.ymin}, {dy, p.ymax - ay}}
  for _, c in ipairs(checks) do
    local pp, q = c[1], c[2]
    if pp == 0 then
      if q < 0 then return nil end
    else
      local r = q / pp
      if pp < 0 then if r > t1 then return nil elseif r > t0 then t0 = r end
      else if r < t0 then return nil elseif r < t1 then t1 = r end end
    end
  end
  return ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy
end

-- A polyline through data points (clipped to the panel); NaN breaks it.
function Panel:path(xs, ys, o)
  o = o or {}
  local segs, cur = {}, nil
  local function flush() if cur and #cur > 1 then segs[#segs + 1] = cur end cur = nil end
  for i = 1, #xs - 1 do
    local ax, ay, bx, by = xs[i], ys[i], xs[i + 1], ys[i + 1]
    if isnan(ax) or isnan(ay) or isnan(bx) or isnan(by) then flush()
    else
      local cx, cy, dx, dy = clip_segment(self, ax, ay, bx, by)
      if not cx then flush()
      else
        local p1 = {self:sx(cx), self:sy(cy)}
        local p2 = {self:sx(dx), self:sy(dy)}
        if cur and (abs(cur[#cur][1] - p1[1]) < 1e-6 and abs(cur[#cur][2] - p1[2]) < 1e-6) then
          cur[#cur + 1] = p2
        else
          flush()
          cur = {p1, p2}
        end
        if dx ~= bx or dy ~= by then flush() end
      end
    end
  end
  flush()
  local d = {}
  for _, s in ipairs(segs) do
    d[#d + 1] = "M" .. f2(s[1][1]) .. "," .. f2(s[1][2])
    for k = 2, #s do
      d[#d + 1] = "L" .. f2(s[k][1]) .. "," .. f2(s[k][2])
      if not o.nonote then
        -- sample along the segment for legend placement
        local a, b = s[k - 1], s[k]
        local len = math.sqrt((b[1] - a[1]) ^ 2 + (b[2] - a[2]) ^ 2)
        local steps = max(1, floor(len / 6))
        for t = 0, steps do self:note(a[1] + (b[1] - a[1]) * t / steps, a[2] + (b[2] - a[2]) * t / steps) end
      end
    end
  end
  if #d == 0 then return "" end
  return ('<path d="%s" fill="none" stroke="%s" stroke-width="%s"%s%s/>'):format(
    table.concat(d, " "), o.stroke or "#000", o.width or 2,
    o.dash and (' stroke-dasharray="%s"'):format(o.dash) or "",
    o.linejoin and (' stroke-linejoin="%s"'):format(o.linejoin) or "")
end

-- Step function (right-continuous, as survival curves): x sorted.
local function step_xy(xs, ys, x_end, y0)
  local px, py = {xs[1] or 0}, {y0}
  for i = 1, #xs do
    px[#px + 1] = xs[i]; py[#py + 1] = py[#py]
    px[#px + 1] = xs[i]; py[#py + 1] = ys[i]
  end
  if x_end and x_end > px[#px] then px[#px + 1] = x_end; py[#py + 1] = py[#py] end
  return px, py
end

-- Axes: spines left/bottom, outward ticks, labels, optional grid.
function Panel:axes(o)
  o = o or {}
  local doc = self.doc
  local out = {'<g class="axes">'}
  local function add(s) out[#out + 1] = s end
  local left, bottom, right, top = self.x0, self.y0 + self.h, self.x0 + self.w, self.y0
  if o.grid then
    for _, t in ipairs(o.yticks or {}) do
      local y = self:sy(t)
      add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e3e3e3" stroke-width="1"/>'):format(f2(left), f2(y), f2(right), f2(y)))
    end
  end
  if o.xticks then
    add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.2"/>'):format(f2(left), f2(bottom), f2(right), f2(bottom)))
    for _, t in ipairs(o.xticks) do
      local x = self:sx(t)
      add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.2"/>'):format(f2(x), f2(bottom), f2(x), f2(bottom + 6)))
      add(('<text x="%s" y="%s" text-anchor="middle" font-size="%d">%s</text>'):format(
        f2(x), f2(bottom + 6 + FS_TICK + 2), FS_TICK, esc(o.xfmt and o.xfmt(t) or tick_label(t, o.xstep))))
    end
  end
  if o.yticks then
    add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.2"/>'):format(f2(left), f2(top), f2(left), f2(bottom)))
    for _, t in ipairs(o.yticks) do
      local y = self:sy(t)
      add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.2"/>'):format(f2(left - 6), f2(y), f2(left), f2(y)))
      add(('<text x="%s" y="%s" text-anchor="end" font-size="%d">%s</text>'):format(
        f2(left - 9), f2(y + FS_TICK * 0.35), FS_TICK, esc(o.yfmt and o.yfmt(t) or tick_label(t, o.ystep))))
    end
  end
  if o.xlab then
    add(('<text x="%s" y="%s" text-anchor="middle" font-size="%d" class="xlab">%s</text>'):format(
      f2(left + self.w / 2), f2(bottom + 6 + FS_TICK + 8 + FS_LABEL), FS_LABEL, esc(o.xlab)))
  end
  if o.ylab then
    local x = left - (o.ylab_offset or 52)
    local y = top + self.h / 2
    add(('<text x="%s" y="%s" text-anchor="middle" font-size="%d" transform="rotate(-90 %s %s)" class="ylab">%s</text>'):format(
      f2(x), f2(y), FS_LABEL, f2(x), f2(y), esc(o.ylab)))
  end
  add("</g>")
  doc:add(table.concat(out, "\n"))
end

-- Legend entries: {label=, color=, kind="line"|"point"|"box", dash=}.
-- Placed inside the panel in the corner holding the fewest data points; if
-- every corner holds data, below the panel (the caller reserved room when
-- it passed `below_y`). Returns the legend's height when placed below.
local function legend_size(entries)
  local w = 0
  for _, e in ipairs(entries) do w = max(w, text_width(e.label, FS_LEGEND)) end
  return w + 46, #entries * (FS_LEGEND + 8) + 10
end

function Panel:legend(entries, o)
  o = o or {}
  if #entries == 0 then return end
  local lw, lh = legend_size(entries)
  local pad = 8
  local candidates = o.corners or {"br", "tr", "bl", "tl"}
  local best, best_n
  for _, c in ipairs(candidates) do
    local x = c:sub(2, 2) == "r" and (self.x0 + self.w - lw - pad) or (self.x0 + pad)
    local y = c:sub(1, 1) == "b" and (self.y0 + self.h - lh - pad) or (self.y0 + pad)
    local n = 0
    for _, p in ipairs(self.points) do
      if p[1] >= x - 4 and p[1] <= x + lw + 4 and p[2] >= y - 4 and p[2] <= y + lh + 4 then n = n + 1 end
    end
    if not best_n or n < best_n then best, best_n = {x, y}, n end
  end
  local x, y
  if lw > self.w - 2 * pad then best_n = math.huge end -- wider than the panel
  if best_n == 0 or o.inside then
    x, y = best[1], best[2]
  else
    -- Every corner would cover data: below the figure, which grows.
    x, y = self.x0, self.doc.h + 2
    self.doc.h = self.doc.h + lh + 12
  end
  local out = {('<g class="legend" transform="translate(%s,%s)">'):format(f2(x), f2(y))}
  out[#out + 1] = ('<rect x="0" y="0" width="%s" height="%s" fill="#ffffff" fill-opacity="0.9" stroke="#bdbdbd" stroke-width="0.8" rx="3"/>'):format(f2(lw), f2(lh))
  for i, e in ipairs(entries) do
    local cy = 5 + (i - 0.5) * (FS_LEGEND + 8)
    if e.kind == "point" then
      out[#out + 1] = ('<circle cx="19" cy="%s" r="4.5" fill="%s"/>'):format(f2(cy), e.color)
    elseif e.kind == "box" then
      out[#out + 1] = ('<rect x="10" y="%s" width="18" height="10" fill="%s" fill-opacity="%s"/>'):format(f2(cy - 5), e.color, e.opacity or 1)
    else
      out[#out + 1] = ('<line x1="8" y1="%s" x2="32" y2="%s" stroke="%s" stroke-width="%s"%s/>'):format(
        f2(cy), f2(cy), e.color, e.width or 2.5, e.dash and (' stroke-dasharray="%s"'):format(e.dash) or "")
    end
    out[#out + 1] = ('<text x="40" y="%s" font-size="%d">%s</text>'):format(f2(cy + FS_LEGEND * 0.35), FS_LEGEND, esc(e.label))
  end
  out[#out + 1] = "</g>"
  self.doc:add(table.concat(out, "\n"))
  return best_n
end

local function title(doc, o, x)
  if o.title then doc:text(x or doc.w / 2, 24, o.title, {anchor = "middle", size = FS_TITLE, weight = "bold"}) end
end

local function color(o, i)
  local pal = o.colors or M.palette
  return pal[(i - 1) % #pal + 1]
end

-- p-value as journals print it.
function M.format_p(p)
  if p == nil or isnan(p) then return "NA" end
  if p < 0.001 then return "< 0.001" end
  if p < 0.01 then return string.format("= %.3f", p) end
  return string.format("= %.2f", p)
end

local function fmt3(x) return string.format("%.3f", x) end
local function fmt2(x) return string.format("%.2f", x) end

---------------------------------------------------------------------------
-- ROC curves
---------------------------------------------------------------------------

--- sv.plot.roc(curves [, opts]) -> svg
-- curves: array of {name=, fpr=, tpr=, auc=, lo=, hi=} or {name=, y=, score=}
function M.roc(curves, opts)
  opts = check_opts(opts, with_common({ci_level = 1}), "plot.roc")
  if type(curves) ~= "table" or #curves == 0 then error("bad argument #1 to 'plot.roc' (array of curves expected)", 2) end
  local W, H = opts.width or 620, opts.height or 600
  local doc = new_doc(W, H, opts.title or "ROC curves")
  local top = opts.title and 44 or 20
  local left, right, bottom = 78, 22, 70
  local size = min(W - left - right, H - top - bottom)
  local panel = new_panel(doc, left, top, size, size, {0, 1}, {0, 1})
  local ticks = {0, 0.2, 0.4, 0.6, 0.8, 1}
  panel:axes({xticks = ticks, yticks = ticks, xstep = 0.1, ystep = 0.1, grid = true,
              xlab = opts.xlab or "1 \u{2212} Specificity", ylab = opts.ylab or "Sensitivity"})
  doc:add(panel:path({0, 1}, {0, 1}, {stroke = "#9a9a9a", width = 1.3, dash = "6 5", nonote = true}))
  local entries = {}
  local level = opts.ci_level or 0.95
  for i, c in ipairs(curves) do
    local fpr, tpr = tolist(c.fpr), tolist(c.tpr)
    local auc = c.auc
    if not fpr then
      if not (c.y and c.score) then error(("plot.roc: curve %d needs fpr/tpr or y/score"):format(i), 2) end
      if not (sv.roc and sv.roc.curve) then error("plot.roc: sv.roc is not available to compute the curve", 2) end
      local rc = sv.roc.curve(c.y, c.score)
      fpr, tpr = tolist(rc.fpr), tolist(rc.tpr)
      if auc == nil then
        local a = sv.roc.auc(c.y, c.score)
        auc, c.lo, c.hi = a.auc, a.lo, a.hi
      end
    end
    -- Order the points by (fpr, tpr) so that the curve runs from (0, 0).
    local idx = {}
    for k = 1, #fpr do idx[k] = k end
    table.sort(idx, function(a, b)
      if fpr[a] ~= fpr[b] then return fpr[a] < fpr[b] end
      return tpr[a] < tpr[b]
    end)
    local xs, ys = {0}, {0}
    for _, k in ipairs(idx) do xs[#xs + 1] = fpr[k]; ys[#ys + 1] = tpr[k] end
    xs[#xs + 1] = 1; ys[#ys + 1] = 1
    local col = color(opts, i)
    doc:add(('<g class="curve" data-name="%s">'):format(esc(c.name or ("curve " .. i))))
    doc:add(panel:path(xs, ys, {stroke = col, width = 2.5, dash = c.dash, linejoin = "round"}))
    doc:add("</g>")
    local label = c.name or ("Curve " .. i)
    if auc then
      label = label .. ": AUC " .. fmt3(auc)
      if c.lo and c.hi then
        label = label .. (" (%d%% CI %s\u{2013}%s)"):format(floor(level * 100 + 0.5), fmt3(c.lo), fmt3(c.hi))
      end
    end
    entries[#entries + 1] = {label = label, color = col, dash = c.dash}
  end
  entries[#entries + 1] = {label = "Chance", color = "#9a9a9a", dash = "6 5", width = 1.3}
  if opts.legend ~= false then panel:legend(entries, {corners = {"br", "tl", "tr", "bl"}}) end
  title(doc, opts)
  return doc:render()
end

--- sv.plot.roc_ovr(y, P [, opts]) -> svg
-- One-vs-rest ROC curves of a several-class model: one curve per class
-- (its rows against all others, scored by its column of P), with the AUC
-- and DeLong interval of each in the legend, all from sv.roc.ovr.
function M.roc_ovr(y, P, opts)
  opts = check_opts(opts, with_common({ci_level = 1}), "plot.roc_ovr")
  local ovr = sv.roc.ovr(y, P, {curves = true, level = opts.ci_level or 0.95})
  local curves = {}
  for _, o in ipairs(ovr) do
    if o.fpr then
      curves[#curves + 1] = {name = tostring(o.class) .. " vs rest", fpr = o.fpr, tpr = o.tpr,
                             auc = o.auc, lo = o.lo, hi = o.hi}
    end
  end
  return M.roc(curves, opts)
end

---------------------------------------------------------------------------
-- Kaplan-Meier curves with the number at risk
---------------------------------------------------------------------------

-- The Kaplan-Meier fit (sv.surv.km) as plain arrays.
local function km_fit(time, event)
  local f = sv.surv.km(time, event)
  local t = {}
  for _, k in ipairs({"time", "n_risk", "n_event", "n_censor", "surv", "lower", "upper"}) do t[k] = tolist(f[k]) end
  t.median = f.median
  return t
end
M._km_fit = km_fit

local function at_risk(fit, t)
  for r = 1, #fit.time do
    if fit.time[r] >= t then return fit.n_risk[r] end
  end
  return 0
end

--- sv.plot.km(groups [, opts]) -> svg
-- groups: array of {name=, fit=} (fit from sv.surv.km) or {name=, time=, event=};
-- or one table {time=, event=, group=} split by group value.
function M.km(groups, opts)
  opts = check_opts(opts, with_common({ci = 1, pvalue = 1, risk_table = 1, xmax = 1, breaks = 1,
    censor_marks = 1, ylim = 1, median = 1}), "plot.km")
  if type(groups) ~= "table" then error("bad argument #1 to 'plot.km' (table expected)", 2) end
  -- A grouped fit from sv.surv.km(time, event, {group = g}).
  if groups.curves and groups.groups then
    local list = {}
    for i, c in ipairs(groups.curves) do list[i] = {name = tostring(groups.groups[i]), fit = c} end
    groups = list
  -- One data table with a group column: split it.
  elseif groups.time and groups.group then
    local t, e, g = tolist(groups.time), tolist(groups.event), tolist(groups.group)
    local by, keys = {}, {}
    for i = 1, #t do
      local k = g[i]
      if k ~= nil and k ~= false and not (type(k) == "number" and isnan(k)) then
        if not by[k] then by[k] = {time = {}, event = {}}; keys[#keys + 1] = k end
        local b = by[k]
        b.time[#b.time + 1] = t[i]; b.event[#b.event + 1] = e[i]
      end
    end
    table.sort(keys, function(a, b) if type(a) == type(b) then return a < b end return type(a) < type(b) end)
    local list = {}
    for _, k in ipairs(keys) do list[#list + 1] = {name = tostring(k), time = by[k].time, event = by[k].event} end
    if opts.pvalue == nil and sv.surv and sv.surv.logrank then
      local ok, lr = pcall(sv.surv.logrank, t, e, g)
      if ok then opts.pvalue = lr.p end
    end
    groups = list
  elseif groups.time then
    groups = {{name = groups.name or "All", time = groups.time, event = groups.event}}
  end
  if #groups == 0 then error("bad argument #1 to 'plot.km' (no groups)", 2) end
  local fits = {}
  local tmax = 0
  for i, g in ipairs(groups) do
    local f = g.fit
    if f then
      local c = {}
      for _, k in ipairs({"time", "n_risk", "n_event", "n_censor", "surv", "lower", "upper"}) do c[k] = tolist(f[k]) end
      f = c
    else
      if not (g.time and g.event) then error(("plot.km: group %d needs fit or time/event"):format(i), 2) end
      f = km_fit(tolist(g.time), tolist(g.event))
    end
    fits[i] = f
    if #f.time > 0 then tmax = max(tmax, f.time[#f.time]) end
  end
  local show_risk = opts.risk_table ~= false
  local W = opts.width or 680
  local left, right = 78, 20
  -- Room for the at-risk labels: the longest group name.
  local namew = 0
  for i, g in ipairs(groups) do namew = max(namew, text_width(g.name or ("Group " .. i), FS_TICK)) end
  left = max(left, namew * 1.1 + 8 + 36)
  local top = opts.title and 44 or 22
  local panel_h = opts.height and (opts.height - top - 70 - (show_risk and (44 + #groups * 22) or 0)) or 380
  local risk_h = show_risk and (48 + #groups * 22) or 0
  local H = top + panel_h + 70 + risk_h
  local doc = new_doc(W, H, opts.title or "Kaplan-Meier curves")
  local xmax = opts.xmax or tmax
  local xticks, xstep, _, x1
  if opts.breaks then
    xstep = opts.breaks
    xticks = {}
    for t = 0, xmax + 1e-9, xstep do xticks[#xticks + 1] = t end
    x1 = xticks[#xticks] < xmax and xticks[#xticks] + xstep or xticks[#xticks]
    if x1 > xticks[#xticks] then xticks[#xticks + 1] = x1 end
  else
    xticks, xstep, _, x1 = nice_ticks(0, xmax, 6)
  end
  local ylim = opts.ylim or {0, 1}
  local yticks, ystep = nice_ticks(ylim[1], ylim[2], 6)
  local panel = new_panel(doc, left, top, W - left - right, panel_h, {0, x1}, ylim)
  panel:axes({xticks = xticks, yticks = yticks, xstep = xstep, ystep = ystep, grid = true,
              xlab = opts.xlab or "Time", ylab = opts.ylab or "Survival probability"})
  local entries = {}
  for i, f in ipairs(fits) do
    local col = color(opts, i)
    local name = groups[i].name or ("Group " .. i)
    doc:add(('<g class="curve" data-name="%s">'):format(esc(name)))
    local last_t = #f.time > 0 and f.time[#f.time] or 0
    if opts.ci and f.lower then
      -- Band: upper step path forward, lower step path back.
      local ux, uy = step_xy(f.time, f.upper, last_t, 1)
      local lx, ly = step_xy(f.time, f.lower, last_t, 1)
      local d = {}
      for k = 1, #ux do
        if not isnan(uy[k]) then d[#d + 1] = (#d == 0 and "M" or "L") .. f2(panel:sx(min(ux[k], x1))) .. "," .. f2(panel:sy(max(ylim[1], min(ylim[2], uy[k])))) end
      end
      for k = #lx, 1, -1 do
        if not isnan(ly[k]) then d[#d + 1] = "L" .. f2(panel:sx(min(lx[k], x1))) .. "," .. f2(panel:sy(max(ylim[1], min(ylim[2], ly[k])))) end
      end
      if #d > 2 then
        doc:add(('<path class="ci-band" d="%s Z" fill="%s" fill-opacity="0.15" stroke="none"/>'):format(table.concat(d, " "), col))
      end
    end
    local sx, sy = step_xy(f.time, f.surv, last_t, 1)
    doc:add(panel:path(sx, sy, {stroke = col, width = 2.4}))
    if opts.censor_marks ~= false then
      local marks = {}
      for r = 1, #f.time do
        if f.n_censor[r] > 0 and f.time[r] <= x1 and f.surv[r] >= ylim[1] then
          local px, py = panel:sx(f.time[r]), panel:sy(f.surv[r])
          marks[#marks + 1] = ("M%s,%s v-7"):format(f2(px), f2(py + 3.5))
        end
      end
      if #marks > 0 then
        doc:add(('<path class="censor" d="%s" stroke="%s" stroke-width="1.6"/>'):format(table.concat(marks, " "), col))
      end
    end
    doc:add("</g>")
    entries[#entries + 1] = {label = name, color = col}
  end
  if opts.pvalue then
    entries[#entries + 1] = {label = "Log-rank p " .. M.format_p(opts.pvalue), color = "none", kind = "box", opacity = 0}
  end
  if opts.legend ~= false then panel:legend(entries, {corners = {"bl", "tr", "br", "tl"}}) end
  if show_risk then
    local y0 = top + panel_h + 70 + 14
    local out = {'<g class="at-risk">'}
    out[#out + 1] = ('<text x="%s" y="%s" font-size="%d" font-weight="bold">Number at risk</text>'):format(f2(8), f2(y0), FS_TICK)
    for i, f in ipairs(fits) do
      local y = y0 + 10 + i * 22
      local col = color(opts, i)
      out[#out + 1] = ('<text x="%s" y="%s" font-size="%d" fill="%s" font-weight="bold" class="risk-label">%s</text>'):format(
        f2(8), f2(y), FS_TICK, col, esc(groups[i].name or ("Group " .. i)))
      for _, t in ipairs(xticks) do
        out[#out + 1] = ('<text x="%s" y="%s" text-anchor="middle" font-size="%d" class="risk">%d</text>'):format(
          f2(panel:sx(t)), f2(y), FS_TICK, at_risk(f, t))
      end
    end
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
  end
  title(doc, opts)
  return doc:render()
end

---------------------------------------------------------------------------
-- SHAP figures
---------------------------------------------------------------------------

local function mat_cols(X)
  -- columns of a Matrix or array of rows, as Lua arrays; and names
  if type(X) == "userdata" then
    local cols = {}
    for j = 1, X:ncol() do cols[j] = X:col(j):totable() end
    return cols, X:names(), X:nrow()
  end
  local cols = {}
  local n = #X
  local p = n > 0 and #X[1] or 0
  for j = 1, p do
    local c = {}
    for i = 1, n do c[i] = X[i][j] end
    cols[j] = c
  end
  return cols, nil, n
end

-- Features ordered by mean |SHAP|, largest first, and each feature's mean
-- |SHAP|: the engine's ranking (sv.shap.importance), as the tables print it.
local function shap_order(phi)
  local idx, imp = {}, {}
  for k, r in ipairs(sv.shap.importance(phi)) do idx[k] = r.index; imp[r.index] = r.value end
  return idx, imp
end

-- The colour scale of a feature's values: the 5th-95th percentiles (R's
-- type 7, NaN dropped; outliers do not wash it out), or the range when
-- those coincide, or [0, 1] when nothing is observed.
local function colour_range(values)
  local q05, q95 = sv.stats.quantile(values, 0.05), sv.stats.quantile(values, 0.95)
  if q95 > q05 then return q05, q95 end
  local s = sv.stats.summary(values)
  if s.n == 0 then return 0, 1 end
  return s.min, s.max
end

-- shap's colour map runs blue (low) -> purple -> red (high).
local LOW, HIGH = {0, 139, 251}, {255, 0, 82}
local function value_color(t)
  if t ~= nil and type(t) ~= "number" then
    error(("bad argument #1 to 'plot.value_color' (number in [0, 1] or nil expected, got %s)"):format(type(t)), 2)
  end
  if t == nil or isnan(t) then return "#b0b0b0" end
  t = max(0, min(1, t))
  local c = {}
  for k = 1, 3 do c[k] = floor(LOW[k] + (HIGH[k] - LOW[k]) * t + 0.5) end
  return string.format("#%02x%02x%02x", c[1], c[2], c[3])
end
M.value_color = value_color

-- The vertical colour bar of the SHAP figures (feature value, high at the
-- top) at (x, y), h pixels tall, captioned sideways dx pixels to its right.
local function colorbar(doc, x, y, h, caption, dx)
  local steps = 40
  local out = {'<g class="colorbar">'}
  for s = 0, steps - 1 do
    out[#out + 1] = ('<rect x="%s" y="%s" width="10" height="%s" fill="%s"/>'):format(
      f2(x), f2(y + s * h / steps), f2(h / steps + 0.6), value_color(1 - s / (steps - 1)))
  end
  out[#out + 1] = ('<text x="%s" y="%s" font-size="13">High</text>'):format(f2(x + 14), f2(y + 10))
  out[#out + 1] = ('<text x="%s" y="%s" font-size="13">Low</text>'):format(f2(x + 14), f2(y + h))
  local mx, my = x + dx, y + h / 2
  out[#out + 1] = ('<text x="%s" y="%s" font-size="13" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>'):format(
    f2(mx), f2(my), f2(mx), f2(my), esc(caption))
  out[#out + 1] = "</g>"
  doc:add(table.concat(out, "\n"))
end

local function names_of(opts, names, p)
  local out = {}
  for j = 1, p do out[j] = (opts.names and opts.names[j]) or (names and names[j]) or ("x" .. j) end
  if opts.labels then
    for j = 1, p do out[j] = opts.labels[out[j]] or out[j] end
  end
  return out
end

--- sv.plot.shap_beeswarm(phi, X [, opts]) -> svg
function M.shap_beeswarm(phi, X, opts)
  opts = check_opts(opts, with_common({max_display = 1, names = 1, labels = 1}), "plot.shap_beeswarm")
  local pc, pnames, n = mat_cols(phi)
  local xc, xnames = mat_cols(X)
  if #pc ~= #xc then error("plot.shap_beeswarm: phi and X have different numbers of columns", 2) end
  local names = names_of(opts, xnames or pnames, #pc)
  local order = shap_order(phi)
  local k = min(#order, opts.max_display or 15)
  local row_h = 34
  local namew = 0
  for a = 1, k do namew = max(namew, text_width(names[order[a]], FS_TICK)) end
  local left = namew + 22
  local top = opts.title and 40 or 14
  local W = opts.width or 720
  local cbw = 70 -- colour bar
  local H = top + k * row_h + 74
  local doc = new_doc(W, H, opts.title or "SHAP summary")
  local vmin, vmax = 0, 0
  for a = 1, k do
    for _, v in ipairs(pc[order[a]]) do vmin = min(vmin, v); vmax = max(vmax, v) end
  end
  local pad = (vmax - vmin) * 0.04
  local xticks, xstep, g0, g1 = data_ticks(vmin - pad, vmax + pad, 6)
  local panel = new_panel(doc, left, top, W - left - cbw - 14, k * row_h, {g0, g1}, {0, k})
  -- light row guides
  for a = 1, k do
    local y = top + (a - 0.5) * row_h
    doc:add(('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e6e6e6" stroke-width="1" stroke-dasharray="2 3"/>'):format(
      f2(left), f2(y), f2(left + panel.w), f2(y)))
  end
  doc:line(panel:sx(0), top, panel:sx(0), top + k * row_h, {stroke = "#9a9a9a", width = 1})
  panel:axes({xticks = xticks, xstep = xstep, xlab = opts.xlab or "SHAP value (impact on model output)"})
  local dot = 3.2
  for a = 1, k do
    local j = order[a]
    local vals, xv = pc[j], xc[j]
    local q05, q95 = colour_range(xv)
    local cy = top + (a - 0.5) * row_h
    -- beeswarm: bin by pixel x; stack alternately above/below the row line
    local idx = {}
    for i = 1, #vals do idx[i] = i end
    table.sort(idx, function(p1, p2) if vals[p1] ~= vals[p2] then return vals[p1] < vals[p2] end return p1 < p2 end)
    local counts, maxc = {}, 0
    local binof = {}
    for _, i in ipairs(idx) do
      local b = floor(panel:sx(vals[i]) / (dot * 1.6))
      counts[b] = (counts[b] or 0) + 1
      binof[i] = counts[b]
      maxc = max(maxc, counts[b])
    end
    local spacing = min(dot * 1.3, (row_h * 0.42) / max(1, maxc / 2))
    local out = {('<g class="swarm" data-feature="%s">'):format(esc(names[j]))}
    for _, i in ipairs(idx) do
      local m = binof[i] - 1
      local off = ((m % 2 == 0) and 1 or -1) * ceil(m / 2) * spacing
      local t = (xv[i] - q05) / (q95 - q05)
      out[#out + 1] = ('<circle cx="%s" cy="%s" r="%s" fill="%s" fill-opacity="0.85"/>'):format(
        f2(panel:sx(vals[i])), f2(cy + off), f2(dot), value_color(isnan(xv[i]) and nil or t))
    end
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
    doc:text(left - 10, cy + FS_TICK * 0.35, names[j], {anchor = "end", class = "feature"})
  end
  colorbar(doc, W - cbw + 8, top + 8, min(k * row_h - 16, 220), "Feature value", 30)
  title(doc, opts)
  return doc:render()
end

--- sv.plot.shap_bar(phi [, opts]) -> svg  (mean |SHAP| per feature)
function M.shap_bar(phi, opts)
  opts = check_opts(opts, with_common({max_display = 1, names = 1, labels = 1, color = 1}), "plot.shap_bar")
  local pc, pnames = mat_cols(phi)
  local names = names_of(opts, pnames, #pc)
  local order, imp = shap_order(phi)
  local k = min(#order, opts.max_display or 15)
  local row_h = 30
  local namew = 0
  for a = 1, k do namew = max(namew, text_width(names[order[a]], FS_TICK)) end
  local left = namew + 22
  local top = opts.title and 40 or 14
  local W = opts.width or 640
  local H = top + k * row_h + 74
  local doc = new_doc(W, H, opts.title or "Mean |SHAP|")
  local vmax = imp[order[1]] or 1
  local xticks, xstep, _, g1 = nice_ticks(0, vmax * 1.12, 5)
  local panel = new_panel(doc, left, top, W - left - 30, k * row_h, {0, g1}, {0, k})
  panel:axes({xticks = xticks, xstep = xstep, xlab = opts.xlab or "mean(|SHAP value|)"})
  local col = opts.color or M.palette[1]
  -- one precision for all bars: 3 significant digits of the largest
  local bar_dec = vmax > 0 and max(0, 2 - floor(log10(vmax))) or 3
  for a = 1, k do
    local j = order[a]
    local y = top + (a - 1) * row_h + 5
    local x1 = panel:sx(imp[j])
    doc:add(('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s" data-index="%d" data-value="%.17g"/>'):format(
      f2(left), f2(y), f2(x1 - left), f2(row_h - 10), col, j, imp[j]))
    local label = string.format("%." .. bar_dec .. "f", imp[j])
    doc:text(x1 + 5, y + (row_h - 10) / 2 + FS_TICK * 0.35, label, {size = 13, fill = "#333"})
    doc:text(left - 10, y + (row_h - 10) / 2 + FS_TICK * 0.35, names[j], {anchor = "end", class = "feature"})
  end
  title(doc, opts)
  return doc:render()
end

--- sv.plot.shap_dependence(phi, X, feature [, opts]) -> svg
function M.shap_dependence(phi, X, feature, opts)
  opts = check_opts(opts, with_common({color_by = 1, names = 1, labels = 1}), "plot.shap_dependence")
  local pc = mat_cols(phi)
  local xc, xnames = mat_cols(X)
  local names = opts.names or xnames or {}
  local function col_index(f)
    if type(f) == "number" then return f end
    for j, nm in ipairs(names) do if nm == f then return j end end
    error(("plot.shap_dependence: no feature named '%s'"):format(tostring(f)), 3)
  end
  local j = col_index(feature)
  local cj = opts.color_by and col_index(opts.color_by)
  local label = function(f) return (opts.labels and opts.labels[f]) or f end
  local W, H = opts.width or 640, opts.height or 480
  local doc = new_doc(W, H, opts.title or ("SHAP dependence: " .. tostring(names[j] or j)))
  local top = opts.title and 40 or 16
  local left, right, bottom = 84, cj and 86 or 20, 70
  local xs, ys = xc[j], pc[j]
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for i = 1, #xs do
    if not isnan(xs[i]) then xmin = min(xmin, xs[i]); xmax = max(xmax, xs[i]) end
    ymin = min(ymin, ys[i]); ymax = max(ymax, ys[i])
  end
  local xpad, ypad = (xmax - xmin) * 0.04, (ymax - ymin) * 0.06
  local xt, xstep, x0, x1 = data_ticks(xmin - xpad, xmax + xpad, 6)
  local yt, ystep, y0, y1 = data_ticks(ymin - ypad, ymax + ypad, 6)
  -- A feature with few integer values (binary, ordinal, counts): ticks at
  -- its values and a small deterministic horizontal jitter, so that the
  -- patients stacked on one value can be seen.
  local distinct, nd, ints = {}, 0, true
  for i = 1, #xs do
    local v = xs[i]
    if not isnan(v) and not distinct[v] then
      distinct[v] = true; nd = nd + 1
      if v ~= floor(v) then ints = false end
    end
  end
  local jitter = 0
  if ints and nd <= 10 and nd >= 1 then
    local vals = {}
    for v in pairs(distinct) do vals[#vals + 1] = v end
    table.sort(vals)
    local gap = 1
    for a = 2, #vals do gap = min(gap, vals[a] - vals[a - 1]) end
    xt, xstep, x0, x1 = vals, 1, vals[1] - 0.6 * gap, vals[#vals] + 0.6 * gap
    jitter = 0.35 * gap
  end
  local panel = new_panel(doc, left, top, W - left - right, H - top - bottom, {x0, x1}, {y0, y1})
  panel:axes({xticks = xt, yticks = yt, xstep = xstep, ystep = ystep, grid = true,
              xlab = opts.xlab or label(names[j] or ("x" .. j)),
              ylab = opts.ylab or ("SHAP value for " .. label(names[j] or ("x" .. j))), ylab_offset = 62})
  doc:line(left, panel:sy(0), left + panel.w, panel:sy(0), {stroke = "#9a9a9a", width = 1, dash = "4 4"})
  local q05, q95
  if cj then q05, q95 = colour_range(xc[cj]) end
  local out = {'<g class="points">'}
  for i = 1, #xs do
    if not isnan(xs[i]) then
      local c = cj and value_color((xc[cj][i] - q05) / (q95 - q05)) or M.palette[1]
      -- golden-ratio sequence: evenly spread, the same every run
      local jx = jitter > 0 and ((i * 0.6180339887498949) % 1 - 0.5) * 2 * jitter or 0
      out[#out + 1] = ('<circle cx="%s" cy="%s" r="3.4" fill="%s" fill-opacity="0.75"/>'):format(
        f2(panel:sx(xs[i] + jx)), f2(panel:sy(ys[i])), isnan(cj and xc[cj][i] or 0) and "#b0b0b0" or c)
    end
  end
  out[#out + 1] = "</g>"
  doc:add(table.concat(out, "\n"))
  if cj then
    colorbar(doc, W - right + 16, top + 10, min(panel.h - 20, 200), label(names[cj] or ("x" .. cj)), 34)
  end
  title(doc, opts)
  return doc:render()
end

local function value_text(v)
  if v == nil or isnan(v) then return "NA" end
  if v == floor(v) and abs(v) < 1e9 then return string.format("%d", v) end
  return string.format("%.3g", v)
end

--- sv.plot.waterfall(phi_row, base, x_row [, opts]) -> svg  (one patient)
function M.waterfall(phi_row, base, x_row, opts)
  opts = check_opts(opts, with_common({names = 1, labels = 1, max_display = 1, fx = 1}), "plot.waterfall")
  local phi = numbers(phi_row, "plot.waterfall", 1)
  if type(base) ~= "number" then
    error(("bad argument #2 to 'plot.waterfall' (number expected, got %s)"):format(type(base)), 2)
  end
  local xv = tolist(x_row) or {}
  local names = opts.names or {}
  local p = #phi
  local lab = {}
  for j = 1, p do
    local nm = names[j] or ("x" .. j)
    nm = (opts.labels and opts.labels[nm]) or nm
    lab[j] = nm .. " = " .. value_text(xv[j])
  end
  local idx = p > 0 and shap_order({phi}) or {}
  local k = min(p, opts.max_display or 10)
  local rows = {}
  for a = 1, k do rows[a] = {label = lab[idx[a]], v = phi[idx[a]]} end
  if p > k then
    local rest = 0
    for a = k + 1, p do rest = rest + phi[idx[a]] end
    rows[#rows + 1] = {label = ("%d other features"):format(p - k), v = rest}
  end
  local fx = base
  for j = 1, p do fx = fx + phi[j] end
  -- cumulative from the bottom row (smallest) up to the top (largest)
  local nr = #rows
  local start = {}
  local cum = base
  for a = nr, 1, -1 do start[a] = cum; cum = cum + rows[a].v end
  local lo, hi = min(base, fx), max(base, fx)
  for a = 1, nr do lo = min(lo, start[a], start[a] + rows[a].v); hi = max(hi, start[a], start[a] + rows[a].v) end
  local namew = 0
  for _, r in ipairs(rows) do namew = max(namew, text_width(r.label, FS_TICK)) end
  local row_h = 32
  local top = (opts.title and 40 or 14) + 34
  local left = namew + 22
  local W = opts.width or 720
  local H = top + nr * row_h + 28 + 76
  local doc = new_doc(W, H, opts.title or "SHAP waterfall")
  local span = hi - lo
  local xt, xstep, x0, x1 = data_ticks(lo - span * 0.12, hi + span * 0.12, 6)
  local panel = new_panel(doc, left, top, W - left - 24, nr * row_h + 28, {x0, x1}, {0, nr})
  panel:axes({xticks = xt, xstep = xstep, xlab = opts.xlab or "Model output (predicted probability)"})
  -- f(x) at the top, E[f(X)] at the bottom, with dashed guides
  local fxx, bx = panel:sx(fx), panel:sx(base)
  doc:line(fxx, top - 8, fxx, top + nr * row_h, {stroke = "#9a9a9a", width = 1, dash = "3 3"})
  doc:line(bx, top, bx, top + nr * row_h + 8, {stroke = "#9a9a9a", width = 1, dash = "3 3"})
  doc:text(fxx, top - 14, ("f(x) = %s"):format(string.format("%.3f", fx)), {anchor = "middle", weight = "bold", class = "fx"})
  doc:text(bx, top + nr * row_h + 22, ("E[f(X)] = %s"):format(string.format("%.3f", base)),
    {anchor = "middle", class = "base", fill = "#444"})
  local POS, NEG = "#ff0d57", "#1e88e5"
  for a = 1, nr do
    local v = rows[a].v
    local y = top + (a - 1) * row_h + 5
    local xa, xb = panel:sx(start[a]), panel:sx(start[a] + v)
    local col = v >= 0 and POS or NEG
    local xl, xr = min(xa, xb), max(xa, xb)
    local hh = row_h - 10
    -- an arrow-shaped bar pointing in the direction of the contribution
    local tip = min(8, (xr - xl))
    local d
    if v >= 0 then
      d = ("M%s,%s L%s,%s L%s,%s L%s,%s L%s,%s Z"):format(f2(xl), f2(y), f2(xr - tip), f2(y), f2(xr), f2(y + hh / 2),
        f2(xr - tip), f2(y + hh), f2(xl), f2(y + hh))
    else
      d = ("M%s,%s L%s,%s L%s,%s L%s,%s L%s,%s Z"):format(f2(xr), f2(y), f2(xl + tip), f2(y), f2(xl), f2(y + hh / 2),
        f2(xl + tip), f2(y + hh), f2(xr), f2(y + hh))
    end
    doc:add(('<path class="bar" d="%s" fill="%s"/>'):format(d, col))
    local txt = (v >= 0 and "+" or "\u{2212}") .. string.format("%.3f", abs(v))
    local tw = text_width(txt, 13)
    if xr - xl > tw + 14 then
      doc:text((xl + xr) / 2, y + hh / 2 + 4.5, txt, {anchor = "middle", size = 13, fill = "#ffffff", weight = "bold"})
    elseif v >= 0 then
      doc:text(xr + 4, y + hh / 2 + 4.5, txt, {size = 13, fill = col, weight = "bold"})
    else
      doc:text(xl - 4, y + hh / 2 + 4.5, txt, {anchor = "end", size = 13, fill = col, weight = "bold"})
    end
    doc:text(left - 10, y + hh / 2 + FS_TICK * 0.35, rows[a].label, {anchor = "end", class = "feature"})
    if a < nr then
      doc:line(panel:sx(start[a]), y + hh, panel:sx(start[a]), y + row_h, {stroke = "#bbbbbb", width = 1})
    end
  end
  title(doc, opts)
  return doc:render()
end

---------------------------------------------------------------------------
-- Calibration and decision curves
---------------------------------------------------------------------------

-- The rows where both y and p are observed (the figures drop missing
-- values; the engine refuses them).
local function complete(y, p)
  local yy, pp = {}, {}
  for i = 1, #y do
    if not isnan(y[i]) and not isnan(p[i]) then yy[#yy + 1] = y[i]; pp[#pp + 1] = p[i] end
  end
  return yy, pp
end

--- sv.plot.calibration_bins(y, p [, bins]) -> {pred=, obs=, lo=, hi=, n=}
-- Groups of equal size by predicted probability: the numbers of
-- sv.calib.curve(y, p, {strategy = "equal_size"}), rows with a missing
-- value left out.
function M.calibration_bins(y, p, bins)
  y, p = numbers(y, "plot.calibration_bins", 1), numbers(p, "plot.calibration_bins", 2)
  if #p ~= #y then
    error(("bad argument #2 to 'plot.calibration_bins' (%d predictions for %d outcomes)"):format(#p, #y), 2)
  end
  for i = 1, #y do
    if not (isnan(y[i]) or y[i] == 0 or y[i] == 1) then
      error(("bad argument #1 to 'plot.calibration_bins' (element %d is %s, expected 0 or 1)"):format(i, tostring(y[i])), 2)
    end
    if not (isnan(p[i]) or (p[i] >= 0 and p[i] <= 1)) then
      error(("bad argument #2 to 'plot.calibration_bins' (element %d is %s, a probability expected)"):format(i, tostring(p[i])), 2)
    end
  end
  bins = bins or 10
  if math.type(bins) ~= "integer" or bins < 1 or bins > 10000 then
    error("bad argument #3 to 'plot.calibration_bins' (number of bins: an integer in [1, 10000] expected)", 2)
  end
  local yy, pp = complete(y, p)
  if #yy == 0 then return {pred = {}, obs = {}, lo = {}, hi = {}, n = {}} end
  local c = sv.calib.curve(yy, pp, {bins = bins, strategy = "equal_size"})
  return {pred = c.mean_predicted:totable(), obs = c.observed:totable(), lo = c.lo:totable(),
          hi = c.hi:totable(), n = c.n:totable()}
end

--- sv.plot.calibration(models [, opts]) -> svg
-- models: array of {name=, y=, p=} (y 0/1, p predicted probabilities)
function M.calibration(models, opts)
  opts = check_opts(opts, with_common({bins = 1, histogram = 1}), "plot.calibration")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.calibration' (array of {name, y, p} expected)", 2) end
  local W = opts.width or 620
  local top = opts.title and 40 or 16
  local left, right = 78, 18
  local size = W - left - right
  local hist_h = opts.histogram == false and 0 or 70
  local H = opts.height or (top + size + hist_h + 76)
  size = min(size, H - top - hist_h - 76)
  local doc = new_doc(W, H, opts.title or "Calibration")
  local panel = new_panel(doc, left, top, size, size, {0, 1}, {0, 1})
  local ticks = {0, 0.2, 0.4, 0.6, 0.8, 1}
  panel:axes({yticks = ticks, ystep = 0.1, grid = true, ylab = opts.ylab or "Observed proportion"})
  doc:add(panel:path({0, 1}, {0, 1}, {stroke = "#9a9a9a", width = 1.3, dash = "6 5", nonote = true}))
  local entries = {}
  for m, md in ipairs(models) do
    local col = color(opts, m)
    local b = M.calibration_bins(md.y, md.p, opts.bins or 10)
    local yy, pp = complete(tolist(md.y), tolist(md.p))
    local brier = #yy > 0 and sv.calib.brier(yy, pp) or 0 / 0
    local out = {('<g class="curve" data-name="%s">'):format(esc(md.name or ("model " .. m)))}
    out[#out + 1] = panel:path(b.pred, b.obs, {stroke = col, width = 1.8})
    for r = 1, #b.pred do
      local px = panel:sx(b.pred[r])
      out[#out + 1] = ('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.4"/>'):format(
        f2(px), f2(panel:sy(b.lo[r])), f2(px), f2(panel:sy(b.hi[r])), col)
      out[#out + 1] = ('<circle cx="%s" cy="%s" r="4.5" fill="%s" data-pred="%.17g" data-obs="%.17g" data-lo="%.17g" data-hi="%.17g" data-n="%d"/>'):format(
        f2(px), f2(panel:sy(b.obs[r])), col, b.pred[r], b.obs[r], b.lo[r], b.hi[r], b.n[r])
      panel:note(px, panel:sy(b.lo[r])); panel:note(px, panel:sy(b.hi[r]))
    end
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
    entries[#entries + 1] = {label = ("%s (Brier %s)"):format(md.name or ("Model " .. m), fmt3(brier)), color = col, kind = "point"}
  end
  entries[#entries + 1] = {label = "Ideal", color = "#9a9a9a", dash = "6 5", width = 1.3}
  if opts.legend ~= false then panel:legend(entries, {corners = {"br", "tl", "tr", "bl"}}) end
  -- distribution of predictions under the panel (first model; one row per model)
  local hy = top + size + 8
  if hist_h > 0 then
    local nbins = 50
    local hp = new_panel(doc, left, hy, size, hist_h - 14, {0, 1}, {0, 1})
    local out = {'<g class="histogram">'}
    local per = (hist_h - 14) / #models
    for m, md in ipairs(models) do
      local counts, cmax = {}, 0
      for _, v in ipairs(tolist(md.p)) do
        if not isnan(v) then
          local b = min(nbins, floor(v * nbins) + 1)
          counts[b] = (counts[b] or 0) + 1
          cmax = max(cmax, counts[b])
        end
      end
      local base_y = hy + m * per
      for b = 1, nbins do
        local c = counts[b] or 0
        if c > 0 then
          local h = c / cmax * (per - 3)
          out[#out + 1] = ('<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.7"/>'):format(
            f2(hp:sx((b - 1) / nbins) + 0.5), f2(base_y - h), f2(size / nbins - 1), f2(h), color(opts, m))
        end
      end
    end
    out[#out + 1] = ('<text x="%s" y="%s" text-anchor="end" font-size="12" fill="#555">Predictions</text>'):format(
      f2(left - 8), f2(hy + (hist_h - 14) / 2 + 4))
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
  end
  -- x axis under the histogram strip
  local xaxis = new_panel(doc, left, hy, size, hist_h > 0 and hist_h - 14 or 0, {0, 1}, {0, 1})
  if hist_h == 0 then xaxis = new_panel(doc, left, top, size, size, {0, 1}, {0, 1}) end
  xaxis:axes({xticks = ticks, xstep = 0.1, xlab = opts.xlab or "Predicted probability"})
  title(doc, opts)
  return doc:render()
end

-- sv.calib.dca on the complete rows: net benefit of the model, of
-- treating all, and the prevalence (NaN when no row is complete).
local function dca(y, p, thresholds)
  local yy, pp = complete(y, p)
  if #yy == 0 or #thresholds == 0 then
    local nan = {}
    for a = 1, #thresholds do nan[a] = 0 / 0 end
    return nan, nan, 0 / 0
  end
  local r = sv.calib.dca(yy, pp, {thresholds = thresholds})
  return r.model:totable(), r.all:totable(), r.prevalence
end

--- sv.plot.net_benefit(y, p, thresholds) -> array of net benefits
-- The model's net benefit of sv.calib.dca, rows with a missing value left out.
function M.net_benefit(y, p, thresholds)
  y, p = numbers(y, "plot.net_benefit", 1), numbers(p, "plot.net_benefit", 2)
  thresholds = numbers(thresholds, "plot.net_benefit", 3)
  if #p ~= #y then
    error(("bad argument #2 to 'plot.net_benefit' (%d predictions for %d outcomes)"):format(#p, #y), 2)
  end
  for a, t in ipairs(thresholds) do
    if not (t >= 0 and t < 1) then
      error(("bad argument #3 to 'plot.net_benefit' (threshold %d is %s, not in [0, 1))"):format(a, tostring(t)), 2)
    end
  end
  return (dca(y, p, thresholds))
end

--- sv.plot.decision_curve(models [, opts]) -> svg
-- models: array of {name=, y=, p=}; net benefit against threshold
-- probability (Vickers & Elkin 2006), with "treat all" and "treat none".
function M.decision_curve(models, opts)
  opts = check_opts(opts, with_common({thresholds = 1, xlim = 1, ylim = 1}), "plot.decision_curve")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.decision_curve' (array of {name, y, p} expected)", 2) end
  local xlim = opts.xlim or {0, 0.8}
  local th = opts.thresholds
  if not th then
    th = {}
    for k = 0, 200 do
      local t = xlim[1] + (xlim[2] - xlim[1]) * k / 200
      if t > 0 and t < 1 then th[#th + 1] = t end
    end
  end
  -- "Treat all" depends on the prevalence, so there is one such line per
  -- distinct outcome vector (models on the same patients share it; test
  -- sets of different cohorts each get theirs).
  local function same_y(a, b)
    if #a ~= #b then return false end
    for i = 1, #a do if a[i] ~= b[i] and not (isnan(a[i]) and isnan(b[i])) then return false end end
    return true
  end
  -- every model's numbers from the engine (sv.calib.dca on its rows)
  local curves, all_of, prev_of = {}, {}, {}
  for m, md in ipairs(models) do
    curves[m], all_of[m], prev_of[m] = dca(numbers(md.y, "plot.decision_curve", 1),
                                           numbers(md.p, "plot.decision_curve", 1), th)
  end
  local outcome_sets, set_of = {}, {}
  for m, md in ipairs(models) do
    local y = tolist(md.y)
    for k, o in ipairs(outcome_sets) do
      if same_y(o.y, y) then set_of[m] = k; break end
    end
    if not set_of[m] then
      outcome_sets[#outcome_sets + 1] = {y = y, prev = prev_of[m], all = all_of[m], first = m}
      set_of[m] = #outcome_sets
    end
  end
  local ymax = 0
  for _, o in ipairs(outcome_sets) do ymax = max(ymax, o.prev) end
  for m = 1, #models do
    for _, v in ipairs(curves[m]) do ymax = max(ymax, v) end
  end
  local ylim = opts.ylim or {-0.05, ymax * 1.08}
  local yt, ystep, y0, yy1 = nice_ticks(ylim[1], ylim[2], 6)
  if opts.ylim then y0, yy1 = ylim[1], ylim[2] end
  local xt, xstep = nice_ticks(xlim[1], xlim[2], 6)
  local W, H = opts.width or 640, opts.height or 500
  local top = opts.title and 40 or 16
  local doc = new_doc(W, H, opts.title or "Decision curve")
  local panel = new_panel(doc, 84, top, W - 84 - 20, H - top - 70, {xlim[1], xlim[2]}, {y0, yy1})
  panel:axes({xticks = xt, yticks = yt, xstep = xstep, ystep = ystep, grid = true,
              xlab = opts.xlab or "Threshold probability", ylab = opts.ylab or "Net benefit", ylab_offset = 62})
  local entries = {}
  local several = #outcome_sets > 1
  for k, o in ipairs(outcome_sets) do
    -- one set: a grey line; several: each in its (first) model's colour, thin
    local col = several and color(opts, o.first) or "#7a7a7a"
    local label = several and ("Treat all (" .. (models[o.first].name or ("set " .. k)) .. ")") or "Treat all"
    doc:add(('<g class="reference" data-name="%s">'):format(esc(label)))
    doc:add(panel:path(th, o.all, {stroke = col, width = several and 1.2 or 1.6, dash = several and "2 3" or nil}))
    doc:add("</g>")
    o.label, o.color = label, col
  end
  doc:add('<g class="reference" data-name="Treat none">')
  doc:add(panel:path({xlim[1], xlim[2]}, {0, 0}, {stroke = "#000000", width = 1.4, dash = "6 4"}))
  doc:add("</g>")
  for m, md in ipairs(models) do
    local col = color(opts, m)
    doc:add(('<g class="curve" data-name="%s">'):format(esc(md.name or ("model " .. m))))
    doc:add(panel:path(th, curves[m], {stroke = col, width = 2.4}))
    doc:add("</g>")
    entries[#entries + 1] = {label = md.name or ("Model " .. m), color = col}
  end
  for _, o in ipairs(outcome_sets) do
    entries[#entries + 1] = {label = o.label, color = o.color, width = several and 1.2 or 1.6, dash = several and "2 3" or nil}
  end
  entries[#entries + 1] = {label = "Treat none", color = "#000000", dash = "6 4", width = 1.4}
  if opts.legend ~= false then panel:legend(entries, {corners = {"tr", "bl", "br", "tl"}}) end
  title(doc, opts)
  return doc:render(), {thresholds = th, net_benefit = curves, treat_all = all_of[1], prevalence = prev_of[1],
                        treat_all_by_model = all_of, prevalence_by_model = prev_of}
end

--- sv.plot.cv_curve(sel [, opts]) -> svg
-- The forward-selection curve of sv.select.forward: CV score (mean +- SE)
-- against the number of features, the chosen size marked.
function M.cv_curve(sel, opts)
  opts = check_opts(opts, with_common({}), "plot.cv_curve")
  local curve = sel.curve or sel
  if type(curve) ~= "table" or #curve == 0 then error("bad argument #1 to 'plot.cv_curve' (a selection result expected)", 2) end
  local W, H = opts.width or 640, opts.height or 460
  local top = opts.title and 44 or 20
  local doc = new_doc(W, H, opts.title or "Forward selection")
  local lo, hi = math.huge, -math.huge
  for _, c in ipairs(curve) do
    local se = isnan(c.se) and 0 or c.se
    lo = min(lo, c.mean - se); hi = max(hi, c.mean + se)
  end
  local pad = max(1e-3, (hi - lo) * 0.08)
  local yt, ystep, y0, y1 = data_ticks(lo - pad, hi + pad, 6)
  local xt = {}
  local stepx = #curve <= 15 and 1 or nicenum(#curve / 10, true)
  for k = 1, #curve do if (k - 1) % stepx == 0 or stepx == 1 then xt[#xt + 1] = k end end
  local panel = new_panel(doc, 84, top, W - 84 - 24, H - top - 70, {0.5, #curve + 0.5}, {y0, y1})
  panel:axes({xticks = xt, yticks = yt, xstep = 1, ystep = ystep, grid = true,
              xlab = opts.xlab or "Number of features (in SHAP order)", ylab = opts.ylab or "Cross-validated AUC",
              ylab_offset = 62})
  local xs, ys = {}, {}
  local out = {'<g class="curve" data-name="cv">'}
  for k, c in ipairs(curve) do
    xs[k], ys[k] = k, c.mean
    local se = isnan(c.se) and 0 or c.se
    out[#out + 1] = ('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.4"/>'):format(
      f2(panel:sx(k)), f2(panel:sy(c.mean - se)), f2(panel:sx(k)), f2(panel:sy(c.mean + se)), M.palette[1])
  end
  out[#out + 1] = panel:path(xs, ys, {stroke = M.palette[1], width = 2})
  for k, c in ipairs(curve) do
    local chosen = sel.k == k
    out[#out + 1] = ('<circle cx="%s" cy="%s" r="%s" fill="%s"%s/>'):format(f2(panel:sx(k)), f2(panel:sy(c.mean)),
      chosen and 7 or 4.5, chosen and M.palette[2] or M.palette[1], chosen and ' class="chosen"' or "")
  end
  out[#out + 1] = "</g>"
  doc:add(table.concat(out, "\n"))
  if sel.k then
    local entries = {{label = "CV mean \u{00B1} SE", color = M.palette[1], kind = "point"},
                     {label = ("Selected: %d feature%s"):format(sel.k, sel.k == 1 and "" or "s"), color = M.palette[2], kind = "point"}}
    if opts.legend ~= false then panel:legend(entries, {corners = {"br", "tr", "bl", "tl"}}) end
  end
  title(doc, opts)
  return doc:render()
end

---------------------------------------------------------------------------
-- Time-dependent performance of survival predictions (sv.surv.auc_t,
-- roc_t, brier_t, calibration_t): every number drawn is the engine's.
---------------------------------------------------------------------------

local function need(v, what, fname, i)
  if v == nil then error(("%s: model %d needs %s"):format(fname, i, what), 3) end
  return v
end

-- A measure over evaluation times, each model a line with its pointwise
-- confidence band (lo..hi), points at the evaluation times.
local function over_time(series, o)
  local W, H = o.width or 640, o.height or 480
  local top = o.title and 44 or 20
  local doc = new_doc(W, H, o.title or o.default_title)
  local tmax, lo, hi = 0, o.ymin or math.huge, o.ymax or -math.huge
  for _, sr in ipairs(series) do
    for k = 1, #sr.time do
      tmax = max(tmax, sr.time[k])
      if not o.ymin and not isnan(sr.lo[k]) then lo = min(lo, sr.lo[k]) end
      if not o.ymax and not isnan(sr.hi[k]) then hi = max(hi, sr.hi[k]) end
    end
  end
  if o.ref then lo, hi = min(lo, o.ref), max(hi, o.ref) end
  if not (hi > lo) then lo, hi = 0, 1 end
  local yt, ystep, y0, y1 = nice_ticks(lo, hi, 6)
  local xt, xstep, _, x1 = nice_ticks(0, tmax, 6)
  local panel = new_panel(doc, 84, top, W - 84 - 24, H - top - 70, {0, x1}, {y0, y1})
  panel:axes({xticks = xt, yticks = yt, xstep = xstep, ystep = ystep, grid = true,
              xlab = o.xlab, ylab = o.ylab, ylab_offset = 62})
  if o.ref then
    doc:add(panel:path({0, x1}, {o.ref, o.ref}, {stroke = "#9a9a9a", width = 1.3, dash = "6 5", nonote = true}))
  end
  local entries = {}
  for i, sr in ipairs(series) do
    local col = color(o, i)
    local out = {('<g class="curve" data-name="%s">'):format(esc(sr.name))}
    local d = {}
    for k = 1, #sr.time do
      if not isnan(sr.hi[k]) then d[#d + 1] = (#d == 0 and "M" or "L") .. f2(panel:sx(sr.time[k])) .. "," .. f2(panel:sy(sr.hi[k])) end
    end
    for k = #sr.time, 1, -1 do
      if not isnan(sr.lo[k]) then d[#d + 1] = "L" .. f2(panel:sx(sr.time[k])) .. "," .. f2(panel:sy(sr.lo[k])) end
    end
    if #d > 2 then
      out[#out + 1] = ('<path class="ci-band" d="%s Z" fill="%s" fill-opacity="0.15" stroke="none"/>'):format(table.concat(d, " "), col)
    end
    out[#out + 1] = panel:path(sr.time, sr.est, {stroke = col, width = 2.2})
    for k = 1, #sr.time do
      if not isnan(sr.est[k]) then
        out[#out + 1] = ('<circle cx="%s" cy="%s" r="3.8" fill="%s" data-time="%.17g" data-est="%.17g" data-lo="%.17g" data-hi="%.17g"/>'):format(
          f2(panel:sx(sr.time[k])), f2(panel:sy(sr.est[k])), col, sr.time[k], sr.est[k], sr.lo[k], sr.hi[k])
        panel:note(panel:sx(sr.time[k]), panel:sy(sr.lo[k])); panel:note(panel:sx(sr.time[k]), panel:sy(sr.hi[k]))
      end
    end
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
    entries[#entries + 1] = {label = sr.label or sr.name, color = col}
  end
  if o.legend ~= false then panel:legend(entries, {corners = {"br", "tr", "bl", "tl"}}) end
  title(doc, o)
  return doc:render()
end

local function level_pct(l) return floor((l or 0.95) * 100 + 0.5) end

--- sv.plot.auc_t(models [, opts]) -> svg: AUC(t) of each model over the
--- evaluation times with its pointwise confidence band.
function M.auc_t(models, opts)
  opts = check_opts(opts, with_common({level = 1, ymin = 1, ymax = 1}), "plot.auc_t")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.auc_t' (array of models expected)", 2) end
  local series, level = {}, opts.level or 0.95
  for i, md in ipairs(models) do
    local r = md.result
    if not r then
      r = sv.surv.auc_t(need(md.time, "time", "plot.auc_t", i), need(md.event, "event", "plot.auc_t", i),
                        need(md.marker, "marker", "plot.auc_t", i), need(md.times, "times", "plot.auc_t", i),
                        {level = level})
    end
    series[i] = {name = md.name or ("Model " .. i), time = tolist(r.time), est = tolist(r.auc),
                 lo = tolist(r.lo), hi = tolist(r.hi)}
  end
  return over_time(series, {width = opts.width, height = opts.height, title = opts.title, colors = opts.colors,
    legend = opts.legend, default_title = "Time-dependent AUC", ref = 0.5, ymin = opts.ymin, ymax = opts.ymax,
    xlab = opts.xlab or "Time", ylab = opts.ylab or ("AUC(t) with %d%% CI"):format(level_pct(level))})
end

--- sv.plot.brier_t(models [, opts]) -> svg: the IPCW Brier score over the
--- evaluation times with its pointwise confidence band; the legend gives
--- the integrated Brier score over the times.
function M.brier_t(models, opts)
  opts = check_opts(opts, with_common({level = 1}), "plot.brier_t")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.brier_t' (array of models expected)", 2) end
  local series, level = {}, opts.level or 0.95
  for i, md in ipairs(models) do
    local r = md.result
    if not r then
      r = sv.surv.brier_t(need(md.time, "time", "plot.brier_t", i), need(md.event, "event", "plot.brier_t", i),
                          need(md.S, "S", "plot.brier_t", i), need(md.times, "times", "plot.brier_t", i),
                          {level = level})
    end
    local name = md.name or ("Model " .. i)
    local ibs = tolist(r.ibs)
    series[i] = {name = name, time = tolist(r.time), est = tolist(r.brier), lo = tolist(r.lo), hi = tolist(r.hi),
                 label = #ibs > 1 and ("%s (IBS %s)"):format(name, fmt3(ibs[#ibs])) or name}
  end
  return over_time(series, {width = opts.width, height = opts.height, title = opts.title, colors = opts.colors,
    legend = opts.legend, default_title = "Brier score", ymin = 0,
    xlab = opts.xlab or "Time", ylab = opts.ylab or ("Brier score with %d%% CI"):format(level_pct(level))})
end

--- sv.plot.roc_t(models, t [, opts]) -> svg: the IPCW ROC curves at
--- horizon t (sv.surv.roc_t), the legend with AUC(t) and its CI.
function M.roc_t(models, t, opts)
  opts = check_opts(opts, with_common({level = 1}), "plot.roc_t")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.roc_t' (array of models expected)", 2) end
  if type(t) ~= "number" then error("bad argument #2 to 'plot.roc_t' (horizon t: a number expected)", 2) end
  local curves, level = {}, opts.level or 0.95
  for i, md in ipairs(models) do
    local time, event = need(md.time, "time", "plot.roc_t", i), need(md.event, "event", "plot.roc_t", i)
    local marker = need(md.marker, "marker", "plot.roc_t", i)
    local r = sv.surv.roc_t(time, event, marker, t)
    local a = sv.surv.auc_t(time, event, marker, t, {level = level})
    curves[i] = {name = md.name or ("Model " .. i), fpr = r.fpr, tpr = r.tpr, auc = a.auc[1], lo = a.lo[1], hi = a.hi[1]}
  end
  return M.roc(curves, {width = opts.width, height = opts.height, colors = opts.colors, legend = opts.legend,
    title = opts.title or ("ROC at t = %s"):format(("%g"):format(t)), ci_level = level,
    xlab = opts.xlab or "False-positive fraction (T > t)", ylab = opts.ylab or "True-positive fraction (event by t)"})
end

--- sv.plot.calibration_t(models, t [, opts]) -> svg: observed (1 -
--- Kaplan-Meier) against mean predicted risk at t per risk group, with the
--- observed risk's CI; the legend gives O/E and the calibration slope.
function M.calibration_t(models, t, opts)
  opts = check_opts(opts, with_common({groups = 1, level = 1}), "plot.calibration_t")
  if type(models) ~= "table" or #models == 0 then error("bad argument #1 to 'plot.calibration_t' (array of models expected)", 2) end
  if type(t) ~= "number" then error("bad argument #2 to 'plot.calibration_t' (horizon t: a number expected)", 2) end
  local level = opts.level or 0.95
  local fits, top_v = {}, 0
  for i, md in ipairs(models) do
    local c = sv.surv.calibration_t(need(md.time, "time", "plot.calibration_t", i), need(md.event, "event", "plot.calibration_t", i),
                                    need(md.S, "S", "plot.calibration_t", i), t, {groups = opts.groups or 10, level = level})
    fits[i] = c
    for k = 1, #c.pred do
      top_v = max(top_v, c.pred[k], isnan(c.obs_hi[k]) and 0 or c.obs_hi[k])
    end
  end
  local W = opts.width or 620
  local H = opts.height or 600
  local top = opts.title and 44 or 20
  local left, right, bottom = 84, 22, 70
  local size = min(W - left - right, H - top - bottom)
  local ticks, step, _, g1 = nice_ticks(0, top_v > 0 and top_v or 1, 6)
  local doc = new_doc(W, H, opts.title or "Calibration at t")
  local panel = new_panel(doc, left, top, size, size, {0, g1}, {0, g1})
  panel:axes({xticks = ticks, yticks = ticks, xstep = step, ystep = step, grid = true, ylab_offset = 62,
              xlab = opts.xlab or ("Predicted risk at t = %s"):format(("%g"):format(t)),
              ylab = opts.ylab or ("Observed risk (1 \u{2212} KM) with %d%% CI"):format(level_pct(level))})
  doc:add(panel:path({0, g1}, {0, g1}, {stroke = "#9a9a9a", width = 1.3, dash = "6 5", nonote = true}))
  local entries = {}
  for i, c in ipairs(fits) do
    local col = color(opts, i)
    local name = models[i].name or ("Model " .. i)
    local out = {('<g class="curve" data-name="%s">'):format(esc(name))}
    out[#out + 1] = panel:path(tolist(c.pred), tolist(c.obs), {stroke = col, width = 1.6})
    for k = 1, #c.pred do
      local px = panel:sx(c.pred[k])
      if not isnan(c.obs_lo[k]) then
        out[#out + 1] = ('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.4"/>'):format(
          f2(px), f2(panel:sy(c.obs_lo[k])), f2(px), f2(panel:sy(c.obs_hi[k])), col)
        panel:note(px, panel:sy(c.obs_lo[k])); panel:note(px, panel:sy(c.obs_hi[k]))
      end
      out[#out + 1] = ('<circle cx="%s" cy="%s" r="4.5" fill="%s" data-pred="%.17g" data-obs="%.17g" data-lo="%.17g" data-hi="%.17g" data-n="%d"/>'):format(
        f2(px), f2(panel:sy(c.obs[k])), col, c.pred[k], c.obs[k], c.obs_lo[k], c.obs_hi[k], floor(c.n[k]))
    end
    out[#out + 1] = "</g>"
    doc:add(table.concat(out, "\n"))
    entries[#entries + 1] = {label = ("%s: O/E %s (%s\u{2013}%s), slope %s"):format(name, fmt2(c.oe), fmt2(c.oe_lo), fmt2(c.oe_hi), fmt2(c.slope)),
                             color = col, kind = "point"}
  end
  entries[#entries + 1] = {label = "Ideal", color = "#9a9a9a", dash = "6 5", width = 1.3}
  if opts.legend ~= false then panel:legend(entries, {corners = {"br", "tl", "tr", "bl"}}) end
  title(doc, opts)
  return doc:render()
end

---------------------------------------------------------------------------
-- Forest plot of a random-effects meta-analysis (sv.meta.rma)
---------------------------------------------------------------------------

-- Scales on which a pooled measure is analysed and shown: the axis is
-- drawn at the analysis scale, labelled on the natural one.
local transforms = {
  identity = {f = function(x) return x end, inv = function(x) return x end, ref = 0},
  exp = {f = math.exp, inv = math.log, ref = 1},
  expit = {f = function(x) return 1 / (1 + math.exp(-x)) end,
           inv = function(p) return math.log(p / (1 - p)) end, ref = nil},
}

--- sv.plot.meta_forest(fit [, opts]) -> SVG: studies (or centres) with
--- their intervals and weights, the pooled estimate as a diamond and the
--- prediction interval, all numbers from the fit of sv.meta.rma.
function M.meta_forest(fit, opts)
  opts = check_opts(opts, with_common({labels = 1, transform = 1, ref = 1, digits = 1, study_label = 1, xlab = 1}), "plot.meta_forest")
  if type(fit) ~= "table" or type(fit.estimate) ~= "number" or fit.yi == nil or fit.ci_lo == nil then
    error("bad argument #1 to 'plot.meta_forest' (a result of sv.meta.rma expected)", 2)
  end
  local tr = transforms[opts.transform or "identity"]
  if not tr then
    error("bad option 'transform' to plot.meta_forest (expected one of \"identity\", \"exp\", \"expit\")", 2)
  end
  local k = fit.k
  local labels = opts.labels or {}
  if type(labels) ~= "table" then error("bad option 'labels' to plot.meta_forest (array of strings expected)", 2) end
  local function label(i) return labels[i] ~= nil and tostring(labels[i]) or ("Study " .. i) end
  local dig = opts.digits or 2
  local fmt = "%." .. dig .. "f"
  local function est_text(e, lo, hi)
    return (fmt .. " [" .. fmt .. ", " .. fmt .. "]"):format(tr.f(e), tr.f(lo), tr.f(hi))
  end
  -- layout: label column, plot panel, estimate column, weight column
  local lw = text_width("Pooled (random effects)", FS_TICK) + 10
  for i = 1, k do lw = max(lw, text_width(label(i), FS_TICK) + 10) end
  local cw = text_width(est_text(-10, -10, -10), FS_TICK) + 16
  local ww = text_width("100.0%", FS_TICK) + 14
  local W = opts.width or max(720, lw + cw + ww + 360)
  local pw = W - lw - cw - ww - 30
  local row = 22
  local top = (opts.title and 40 or 14) + row
  local H = opts.height or (top + (k + 3) * row + 60)
  -- x range: every interval, the prediction interval and the reference line
  local lo, hi = fit.pi_lo, fit.pi_hi
  for i = 1, k do lo = min(lo, fit.ci_lo[i]); hi = max(hi, fit.ci_hi[i]) end
  local ref = opts.ref
  if ref == nil then ref = tr.ref end
  if ref ~= nil and ref ~= false then
    local r = tr.inv(ref)
    lo = min(lo, r); hi = max(hi, r)
  end
  local pad = (hi - lo) * 0.04
  lo, hi = lo - pad, hi + pad
  local doc = new_doc(W, H, opts.title or "Forest plot")
  local x0 = lw + 10
  local panel = new_panel(doc, x0, top, pw, (k + 2) * row, {lo, hi}, {0, k + 2})
  -- ticks: nice numbers on the natural scale, placed at their analysis value
  local nlo, nhi = tr.f(lo), tr.f(hi)
  local ticks_nat, step
  if opts.transform == "exp" then
    -- ratios: a log axis at 1-2-5 numbers
    ticks_nat = {}
    for e = floor(log10(nlo)), ceil(log10(nhi)) do
      for _, m in ipairs({1, 2, 5}) do ticks_nat[#ticks_nat + 1] = m * 10 ^ e end
    end
    step = 10 ^ floor(log10(nlo))
  else
    ticks_nat, step = nice_ticks(nlo, nhi, 5)
  end
  local xt = {}
  for _, t in ipairs(ticks_nat) do
    local a = tr.inv(t)
    if a == a and a >= lo and a <= hi then xt[#xt + 1] = a end
  end
  local function xfmt(a)
    local v = tr.f(a)
    if opts.transform == "exp" then return (("%g"):format(tonumber(("%.6g"):format(v)))) end
    return tick_label(v, step)
  end
  panel:axes({xticks = xt, xfmt = xfmt, xlab = opts.xlab or "Estimate"})
  local out = {'<g class="forest">'}
  local function y_of(r) return top + (r - 0.5) * row end
  doc:text(lw, top - 6, opts.study_label or "Centre", {anchor = "end", weight = "bold"})
  doc:text(x0 + pw + 8, top - 6, "Estimate [" .. math.floor(fit.level * 100 + 0.5) .. "% CI]", {weight = "bold"})
  doc:text(W - 10, top - 6, "Weight", {anchor = "end", weight = "bold"})
  if ref ~= nil and ref ~= false then
    local rx = panel:sx(tr.inv(ref))
    out[#out + 1] = ('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#9a9a9a" stroke-dasharray="4 4"/>'):format(
      f2(rx), f2(top), f2(rx), f2(top + (k + 2) * row))
  end
  local wmax = 0
  for i = 1, k do wmax = max(wmax, fit.weights[i]) end
  for i = 1, k do
    local y = y_of(i)
    local a, b = panel:sx(fit.ci_lo[i]), panel:sx(fit.ci_hi[i])
    out[#out + 1] = ('<line class="ci" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.2"/>'):format(
      f2(a), f2(y), f2(b), f2(y))
    local s = 4 + 8 * math.sqrt(fit.weights[i] / wmax)
    out[#out + 1] = ('<rect class="study" x="%s" y="%s" width="%s" height="%s" fill="%s"/>'):format(
      f2(panel:sx(fit.yi[i]) - s / 2), f2(y - s / 2), f2(s), f2(s), color(opts, 1))
    doc:text(lw, y + 4, label(i), {anchor = "end"})
    doc:text(x0 + pw + 8, y + 4, est_text(fit.yi[i], fit.ci_lo[i], fit.ci_hi[i]))
    doc:text(W - 10, y + 4, ("%.1f%%"):format(fit.weights[i]), {anchor = "end"})
  end
  -- pooled estimate: diamond over its CI; prediction interval as a bar
  local y = y_of(k + 1.5)
  local cx, l, r = panel:sx(fit.estimate), panel:sx(fit.lo), panel:sx(fit.hi)
  out[#out + 1] = ('<polygon class="pooled" points="%s,%s %s,%s %s,%s %s,%s" fill="%s"/>'):format(
    f2(l), f2(y), f2(cx), f2(y - 7), f2(r), f2(y), f2(cx), f2(y + 7), color(opts, 2))
  local pl, ph = panel:sx(fit.pi_lo), panel:sx(fit.pi_hi)
  out[#out + 1] = ('<line class="pi" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>'):format(
    f2(pl), f2(y + 11), f2(ph), f2(y + 11), color(opts, 2))
  doc:text(lw, y + 4, "Pooled (random effects)", {anchor = "end", weight = "bold"})
  doc:text(x0 + pw + 8, y + 4, est_text(fit.estimate, fit.lo, fit.hi), {weight = "bold"})
  doc:text(x0 + pw + 8, y + 20, ("PI " .. fmt .. " to " .. fmt):format(tr.f(fit.pi_lo), tr.f(fit.pi_hi)), {size = FS_TICK - 1})
  doc:text(W - 10, y + 4, "100%", {anchor = "end"})
  out[#out + 1] = "</g>"
  doc:add(table.concat(out, "\n"))
  doc:text(10, H - 8, ("%s, %s; tau\u{B2} = %.3g, I\u{B2} = %.1f%%, Q = %.2f (df %d, p %s)"):format(
    fit.method, fit.test == "knha" and "Knapp-Hartung" or "z test", fit.tau2, fit.i2, fit.q, fit.q_df,
    M.format_p(fit.q_p)), {size = FS_TICK - 1, fill = "#444"})
  title(doc, opts)
  return doc:render()
end

--- sv.plot.instability(v [, opts]) -> svg: Riley & Collins (2023)
--- prediction instability plot of an sv.validate.bootstrap result
function M.instability(v, opts)
  opts = check_opts(opts, with_common({max_points = 1}), "plot.instability")
  local ins = type(v) == "table" and v.instability
  if not ins or not ins.p then error("bad argument #1 to 'plot.instability' (an sv.validate.bootstrap result expected)", 2) end
  local W = opts.width or 600
  local top = opts.title and 40 or 16
  local left, right = 78, 18
  local size = W - left - right
  local H = opts.height or (top + size + 70)
  local doc = new_doc(W, H, opts.title or "Prediction instability")
  local panel = new_panel(doc, left, top, size, size, {0, 1}, {0, 1})
  local ticks = {0, 0.2, 0.4, 0.6, 0.8, 1}
  panel:axes({xticks = ticks, yticks = ticks, xstep = 0.1, ystep = 0.1, grid = true,
              xlab = opts.xlab or "Prediction of the developed model",
              ylab = opts.ylab or "Predictions of the bootstrap models"})
  local p0 = tolist(ins.p)
  local n = #p0
  -- the replicates' predictions, as many whole replicates as max_points allows
  local preds = v.predictions or {}
  local limit = opts.max_points or 20000
  local out = {('<g class="points" fill="%s" fill-opacity="0.25">'):format(M.palette[1])}
  local drawn = 0
  for _, pb in ipairs(preds) do
    if pb and drawn + n <= limit then
      for i = 1, n do
        out[#out + 1] = ('<circle cx="%s" cy="%s" r="1.6"/>'):format(f2(panel:sx(p0[i])), f2(panel:sy(pb[i])))
      end
      drawn = drawn + n
    end
  end
  out[#out + 1] = "</g>"
  doc:add(table.concat(out, "\n"))
  -- each patient's 2.5% and 97.5% quantiles, as marks (no smoother)
  local q = {('<g class="quantiles" fill="%s">'):format(M.palette[2])}
  for i = 1, n do
    for _, v in ipairs({ins.lo[i], ins.hi[i]}) do
      if not isnan(v) then
        q[#q + 1] = ('<rect x="%s" y="%s" width="5" height="1.6"/>'):format(f2(panel:sx(p0[i]) - 2.5), f2(panel:sy(v) - 0.8))
      end
    end
  end
  q[#q + 1] = "</g>"
  doc:add(table.concat(q, "\n"))
  doc:add(panel:path({0, 1}, {0, 1}, {stroke = "#000", width = 1.2, nonote = true}))
  local entries = {{label = ("Bootstrap models (MAPE %.3f)"):format(ins.mape_mean), color = M.palette[1], kind = "point"},
                   {label = "Each patient's 2.5% and 97.5% quantiles", color = M.palette[2], width = 2}}
  if opts.legend ~= false then panel:legend(entries, {corners = {"br", "tl", "tr", "bl"}}) end
  title(doc, opts)
  return doc:render()
end

--- sv.plot.selection(v [, opts]) -> svg: how often each feature was
--- selected across the bootstrap replicates
function M.selection(v, opts)
  opts = check_opts(opts, with_common({max_display = 1, color = 1}), "plot.selection")
  local sel = type(v) == "table" and (v.selection or (v[1] and v[1].frequency and v))
  if not sel or #sel == 0 then
    error("bad argument #1 to 'plot.selection' (an sv.validate.bootstrap result with selection frequencies expected)", 2)
  end
  local k = min(#sel, opts.max_display or 30)
  local row_h = 26
  local namew = 0
  for a = 1, k do namew = max(namew, text_width(tostring(sel[a].feature), FS_TICK)) end
  local left = namew + 22
  local top = opts.title and 40 or 14
  local W = opts.width or 640
  local H = top + k * row_h + 74
  local doc = new_doc(W, H, opts.title or "Selection frequency")
  local panel = new_panel(doc, left, top, W - left - 60, k * row_h, {0, 1}, {0, k})
  panel:axes({xticks = {0, 0.2, 0.4, 0.6, 0.8, 1}, xstep = 0.1,
              xlab = opts.xlab or "Proportion of bootstrap replicates selecting the feature"})
  local col = opts.color or M.palette[1]
  for a = 1, k do
    local s = sel[a]
    local y = top + (a - 1) * row_h + 4
    local x1 = panel:sx(s.frequency)
    doc:add(('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s" data-value="%.17g"/>'):format(
      f2(left), f2(y), f2(x1 - left), f2(row_h - 8), col, s.frequency))
    doc:text(x1 + 5, y + (row_h - 8) / 2 + FS_TICK * 0.35, ("%.2f"):format(s.frequency), {size = 13, fill = "#333"})
    doc:text(left - 10, y + (row_h - 8) / 2 + FS_TICK * 0.35, tostring(s.feature), {anchor = "end", class = "feature"})
  end
  title(doc, opts)
  return doc:render()
end

--- sv.plot.save(svg, path [, opts]): writes the figure atomically as SVG,
--- PDF, PNG or TIFF by the path's extension (sv.figure.render draws it)
local save_formats = {svg = "svg", pdf = "pdf", png = "png", tif = "tiff", tiff = "tiff"}
function M.save(svg, path, opts)
  if type(svg) ~= "string" then error("bad argument #1 to 'plot.save' (SVG text expected)", 2) end
  if type(path) ~= "string" then error("bad argument #2 to 'plot.save' (file path expected, got " .. type(path) .. ")", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #3 to 'plot.save' (table of options expected, got " .. type(opts) .. ")", 2) end
  local ext = path:match("%.([%w]+)$")
  local fmt = ext and save_formats[ext:lower()]
  if not fmt then
    error(("plot.save: cannot tell the format of '%s': the file name must end in .svg, .pdf, .png, .tif or .tiff"):format(path), 2)
  end
  if fmt == "svg" then
    if opts and opts.width_mm ~= nil then
      -- an SVG is scaled by its width/height attributes; the drawing keeps its viewBox
      local w = opts.width_mm
      if type(w) ~= "number" or not (w > 0 and w <= 1000) then
        error(("plot.save: option 'width_mm' must be a number in (0, 1000], got %s"):format(tostring(w)), 2)
      end
      local W, H = svg:match('<svg[^>]-width="([%d%.]+)"[^>]-height="([%d%.]+)"')
      if W then
        local h = w * tonumber(H) / tonumber(W)
        svg = svg:gsub('(<svg[^>]-)width="[%d%.]+"([^>]-)height="[%d%.]+"',
          function(a, b) return ('%swidth="%smm"%sheight="%smm"'):format(a, f2(w), b, f2(h)) end, 1)
      end
    end
    sv.write_atomic(path, svg)
    return path
  end
  local ok, bytes = pcall(sv.figure.render, svg, fmt, opts)
  if not ok then error(("plot.save: '%s': %s"):format(path, tostring(bytes):gsub("^figure%.render: ", "")), 2) end
  sv.write_atomic(path, bytes)
  return path
end

--- sv.plot.save_all(figures, dir [, opts]): writes each figure of a
--- name -> svg table as dir/<name>.<format> for every format in
--- opts.formats (default {"pdf", "png"}); returns the sorted list of paths
function M.save_all(figures, dir, opts)
  if type(figures) ~= "table" then error("bad argument #1 to 'plot.save_all' (table of name = svg expected)", 2) end
  if type(dir) ~= "string" then error("bad argument #2 to 'plot.save_all' (folder path expected)", 2) end
  opts = opts or {}
  local formats = opts.formats or {"pdf", "png"}
  local names = {}
  for name, svg in pairs(figures) do
    if type(name) ~= "string" or name == "" or name:find("[/\\]") then
      error(("plot.save_all: figure name %q is not a plain file name"):format(tostring(name)), 2)
    end
    if type(svg) ~= "string" then error(("plot.save_all: figure '%s' is not SVG text"):format(name), 2) end
    names[#names + 1] = name
  end
  table.sort(names)
  local lfs = require "lfs"
  if not lfs.attributes(dir, "mode") then
    local ok, err = lfs.mkdir(dir)
    if not ok then error(("plot.save_all: cannot create folder '%s': %s"):format(dir, tostring(err)), 2) end
  end
  local out = {}
  for _, name in ipairs(names) do
    for _, f in ipairs(formats) do
      local p = dir .. "/" .. name .. "." .. f
      M.save(figures[name], p, opts)
      out[#out + 1] = p
    end
  end
  return out
end

return M
