-- Figure files: sv.plot.save / sv.figure.render to PDF, PNG and TIFF.
-- Checks what a journal's checker and a person would: the container is
-- what its extension says, the pixel size is width_mm at dpi, the
-- resolution is recorded in the file, the page size of the PDF is the
-- printed size, and the rendered pixels are where the SVG put its shapes.
local T = require "testing"
local sv = require "sylva"

local tmp = T.tmp

local function u32be(s, i) return (s:byte(i) << 24) | (s:byte(i + 1) << 16) | (s:byte(i + 2) << 8) | s:byte(i + 3) end
local function u16le(s, i) return s:byte(i) | (s:byte(i + 1) << 8) end
local function u32le(s, i) return s:byte(i) | (s:byte(i + 1) << 8) | (s:byte(i + 2) << 16) | (s:byte(i + 3) << 24) end

-- PNG chunks by type -> data
local function png_chunks(s)
  T.eq(s:sub(1, 8), "\137PNG\r\n\26\n", "PNG signature")
  local chunks, i = {}, 9
  while i <= #s do
    local len = u32be(s, i)
    local typ = s:sub(i + 4, i + 7)
    chunks[typ] = chunks[typ] or s:sub(i + 8, i + 7 + len)
    chunks[#chunks + 1] = typ
    i = i + 12 + len
  end
  return chunks
end

-- TIFF (little-endian, as libtiff writes on x86) first IFD: tag -> value
local function tiff_tags(s)
  T.eq(s:sub(1, 4), "II*\0", "TIFF header")
  local ifd = u32le(s, 5) + 1
  local n = u16le(s, ifd)
  local tags = {}
  for k = 0, n - 1 do
    local e = ifd + 2 + 12 * k
    local tag, typ, val = u16le(s, e), u16le(s, e + 2), u32le(s, e + 8)
    if typ == 3 then val = u16le(s, e + 8) end
    if typ == 5 then -- RATIONAL: offset to numerator, denominator
      local off = val + 1
      val = u32le(s, off) / u32le(s, off + 4)
    end
    tags[tag] = val
  end
  return tags
end

-- A known drawing: white page 200 x 100 px, a blue square at (20,20)-(60,60)
-- and a red one at (140,40)-(180,80).
local squares = [[<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">
<rect x="20" y="20" width="40" height="40" fill="#0000ff"/>
<rect x="140" y="40" width="40" height="40" fill="#ff0000"/></svg>]]

local function pixel(rgb, w, x, y)
  local i = (y * w + x) * 3 + 1
  return rgb:byte(i), rgb:byte(i + 1), rgb:byte(i + 2)
end

T.test("rendered pixels sit where the SVG drew its shapes, at the requested scale", function()
  -- 200 px = 200/96 in; at 96 dpi the raster is 200 x 100
  local rgb, w, h = sv.figure.render(squares, "rgb", {dpi = 96})
  T.eq(w, 200); T.eq(h, 100); T.eq(#rgb, 200 * 100 * 3)
  T.eq(table.concat({pixel(rgb, w, 40, 40)}, ","), "0,0,255", "inside the blue square")
  T.eq(table.concat({pixel(rgb, w, 160, 60)}, ","), "255,0,0", "inside the red square")
  T.eq(table.concat({pixel(rgb, w, 100, 50)}, ","), "255,255,255", "white background")
  T.eq(table.concat({pixel(rgb, w, 10, 10)}, ","), "255,255,255", "outside the squares")
  -- width_mm = 100 at 254 dpi: 100 mm = 1000 px wide, 500 high; the blue
  -- square spans 100..300 px
  rgb, w, h = sv.figure.render(squares, "rgb", {dpi = 254, width_mm = 100})
  T.eq(w, 1000); T.eq(h, 500)
  T.eq(table.concat({pixel(rgb, w, 105, 105)}, ","), "0,0,255")
  T.eq(table.concat({pixel(rgb, w, 295, 295)}, ","), "0,0,255")
  T.eq(table.concat({pixel(rgb, w, 95, 95)}, ","), "255,255,255")
  T.eq(table.concat({pixel(rgb, w, 305, 305)}, ","), "255,255,255")
end)

local y = {0, 0, 1, 1, 0, 1, 1, 0, 1, 0}
local s = {0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.7, 0.3, 0.6, 0.5}
local roc = sv.plot.roc({{y = y, score = s, name = "Test"}})

T.test("PNG: single-column width at 300 dpi, resolution recorded (pHYs)", function()
  local path = tmp .. "/fig_roc.png"
  T.eq(sv.plot.save(roc, path, {dpi = 300, width_mm = 85}), path)
  local c = png_chunks(T.read_file(path))
  T.eq(u32be(c.IHDR, 1), 1004, "85 mm at 300 dpi = 1004 px") -- round(85 / 25.4 * 300)
  T.eq(c[1], "IHDR"); T.eq(c[2], "pHYs", "pHYs right after IHDR")
  T.eq(u32be(c.pHYs, 1), 11811, "300 dpi = 11811 px per metre")
  T.eq(u32be(c.pHYs, 5), 11811)
  T.eq(c.pHYs:byte(9), 1, "unit: metre")
  T.eq(c[#c], "IEND")
end)

T.test("TIFF: double-column width at 600 dpi, LZW, resolution tags", function()
  local path = tmp .. "/fig_roc.tiff"
  sv.plot.save(roc, path, {dpi = 600, width_mm = 170})
  local t = tiff_tags(T.read_file(path))
  T.eq(t[256], 4016, "170 mm at 600 dpi = 4016 px") -- ImageWidth
  T.eq(t[259], 5, "LZW compression")
  T.eq(t[262], 2, "RGB")
  T.near(t[282], 600, 1e-9, "XResolution"); T.near(t[283], 600, 1e-9, "YResolution")
  T.eq(t[296], 2, "resolution unit: inch")
  -- .tif is the same format
  sv.plot.save(roc, tmp .. "/fig_roc.tif", {dpi = 300})
  T.eq(T.read_file(tmp .. "/fig_roc.tif"):sub(1, 4), "II*\0")
end)

T.test("PDF: the page is the printed size in points", function()
  local path = tmp .. "/fig_roc.pdf"
  sv.plot.save(roc, path, {width_mm = 85})
  local pdf = T.read_file(path)
  T.eq(pdf:sub(1, 5), "%PDF-")
  local w, h = pdf:match("/MediaBox %[%s*0 0 ([%d%.]+) ([%d%.]+)%s*%]")
  T.ok(w, "MediaBox present")
  T.near(tonumber(w), 85 / 25.4 * 72, 0.01, "85 mm in points")
  local W, H = roc:match('<svg[^>]-width="([%d%.]+)"[^>]-height="([%d%.]+)"')
  T.near(tonumber(h), 85 / 25.4 * 72 * H / W, 0.01, "aspect kept")
end)

T.test("SVG: width_mm sets the printed size and keeps the drawing", function()
  local path = tmp .. "/fig_roc.svg"
  sv.plot.save(roc, path, {width_mm = 85})
  local out = T.read_file(path)
  T.ok(out:find('width="85mm"', 1, true), "width in mm")
  T.ok(out:find(roc:match('viewBox="[^"]+"'), 1, true), "same viewBox")
  sv.plot.save(roc, path)
  T.eq(T.read_file(path), roc, "no options: the SVG text unchanged")
end)

T.test("save_all writes every figure in every format", function()
  local dir = tmp .. "/fig_all"
  local paths = sv.plot.save_all({roc = roc, squares = squares}, dir, {formats = {"pdf", "png", "tiff"}, dpi = 150})
  T.eq(#paths, 6)
  T.eq(paths[1], dir .. "/roc.pdf")
  for _, p in ipairs(paths) do T.ok(#T.read_file(p) > 100, p) end
end)

T.test("bad input is refused with the argument named, and nothing is written", function()
  T.raises(function() sv.plot.save(roc, tmp .. "/fig.jpg") end, "must end in .svg, .pdf, .png, .tif or .tiff")
  T.raises(function() sv.plot.save(roc, tmp .. "/fig.png", {dpi = 10}) end, "option 'dpi' must be in [72, 2400], got 10")
  T.raises(function() sv.plot.save(roc, tmp .. "/fig.png", {width_mm = -1}) end, "option 'width_mm' must be in (0, 1000]")
  T.raises(function() sv.plot.save(roc, tmp .. "/fig.svg", {width_mm = 0}) end, "option 'width_mm' must be a number in (0, 1000]")
  T.raises(function() sv.plot.save("<svg", tmp .. "/fig.png") end, "the SVG cannot be read")
  T.raises(function() sv.plot.save(roc, tmp .. "/fig.png", {dpi = 2400, width_mm = 1000}) end, "too large")
  T.raises(function() sv.figure.render(roc, "jpeg") end, "invalid option 'jpeg'")
  T.ok(not io.open(tmp .. "/fig.png", "rb"), "no file after a refused save")
  T.raises(function() sv.plot.save(roc, "/nonexistent-dir/x.png") end, "x.png")
end)

T.done()
