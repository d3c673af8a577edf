#!/bin/sh
# her2_screenshots.sh - renders the HER2 study's report (examples/her2/study.lua)
# in headless Chromium and writes the PNGs that docs/tutorial.md shows
# (docs/img/her2/). Needs Debian's chromium; run from the repository root
# after `make build`:   sh tools/her2_screenshots.sh
set -eu
OUT=${1:-docs/img/her2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
SOURCE_DATE_EPOCH=0 build/sylva study examples/her2/study.lua --out "$WORK/report" >/dev/null 2>&1

shot() { # file width height png
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$WORK/profile" --screenshot="$4" --window-size="$2,$3" "file://$1" >/dev/null 2>&1
}

# the figures docs/tutorial.md shows
for f in task1_roc task1_calibration task1_decision task1_shap_beeswarm task1_shap_bar \
         task1_dependence_size_mm task1_waterfall task1_km task2_km; do
    svg="$WORK/report/figures/$f.svg"
    w=$(sed -n 's/.*<svg[^>]* width="\([0-9.]*\)".*/\1/p' "$svg" | head -1)
    h=$(sed -n 's/.*<svg[^>]* height="\([0-9.]*\)".*/\1/p' "$svg" | head -1)
    shot "$svg" "${w%.*}" "${h%.*}" "$OUT/$f.png"
done
shot "$WORK/report/report.html" 1100 1400 "$OUT/report.png"
ls -l "$OUT"
