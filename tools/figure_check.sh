#!/bin/sh
# figure_check.sh - renders sylva's figures two ways and compares them, as a
# person checking a journal figure would: each SVG opened in headless
# Chromium (a browser is the reference renderer of SVG) and the PNG that
# sv.plot.save writes through librsvg, at the same pixel size. Prints the
# mean absolute difference per channel and the share of pixels that differ
# by more than a quarter of the range (text anti-aliasing). Needs Debian's
# chromium (not installed by make deps: a manual check, not a CI test).
#   sh tools/figure_check.sh [build/sylva]
set -eu
bin=${1:-build/sylva}
out=${TMPDIR:-/tmp}/sylva-figure-check
rm -rf "$out"
mkdir -p "$out"
"$bin" - "$out" <<'LUA'
local sv = require "sylva"
local out = arg[1]
local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
local t, e, g = d:col("rfstime"), d:col("status"), d:col("grade")
local groups = {}
for _, k in ipairs({1, 2, 3}) do
  local tt, ee = {}, {}
  for i = 1, #t do if g[i] == k then tt[#tt + 1] = t[i]; ee[#ee + 1] = e[i] end end
  groups[#groups + 1] = {name = "Grade " .. k, time = tt, event = ee}
end
local y = {}
for i = 1, #e do y[i] = e[i] end
local figs = {
  km = sv.plot.km(groups, {risk_table = true}),
  roc = sv.plot.roc({{y = y, score = d:col("nodes"), name = "Nodes"}, {y = y, score = d:col("size"), name = "Size"}}),
}
for name, svg in pairs(figs) do
  sv.plot.save(svg, out .. "/" .. name .. ".svg")
  sv.plot.save(svg, out .. "/" .. name .. "_rsvg.png", {dpi = 96})
  local w, h = svg:match('width="(%d+)" height="(%d+)"')
  print(name, w, h)
end
LUA
"$bin" - "$out" <<'LUA' | while read -r name w h; do
local out = arg[1]
for _, n in ipairs({"km", "roc"}) do
  local f = assert(io.open(out .. "/" .. n .. ".svg")); local s = f:read("a"); f:close()
  print(n, s:match('width="(%d+)" height="(%d+)"'))
end
LUA
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$out/chromium-profile" --hide-scrollbars --window-size="$w,$h" \
    --screenshot="$out/${name}_chromium.png" "file://$out/$name.svg" >/dev/null 2>&1
  python3 - "$out/${name}_rsvg.png" "$out/${name}_chromium.png" "$name" <<'PY'
import struct, sys, zlib
def read_png(path):
    data = open(path, "rb").read()
    i, idat = 8, b""
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        i += 12 + n
        if kind == b"IHDR":
            w, h, _, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    raw, bpp = zlib.decompress(idat), {2: 3, 6: 4}[colour]
    stride, rows, prev, p = w * bpp, [], bytearray(w * bpp), 0
    for _ in range(h):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[k * bpp:k * bpp + 3]) for k in range(w)])
        prev = line
    return w, h, rows
w1, h1, a = read_png(sys.argv[1])
w2, h2, b = read_png(sys.argv[2])
total = big = n = 0
for y in range(min(h1, h2)):
    for x in range(min(w1, w2)):
        d = sum(abs(p - q) for p, q in zip(a[y][x], b[y][x])) / 3
        total += d; n += 1; big += d > 64
print("%s: librsvg %dx%d, chromium %dx%d: mean |difference| %.2f of 255, %.2f%% of pixels differ by > 64"
      % (sys.argv[3], w1, h1, w2, h2, total / n, 100 * big / n))
PY
done
