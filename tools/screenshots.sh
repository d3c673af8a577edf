#!/bin/sh
# screenshots.sh - renders the sample report (examples/report_sample.lua) and
# its figures in headless Chromium and writes the PNGs shown in the docs
# (docs/img/). Needs Debian's chromium; run from the repository root after
# `make build`:   sh tools/screenshots.sh
set -eu
OUT=${1:-docs/img}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
SYLVA_ROOT=$PWD SYLVA_REPORT_DATE=2026-01-01T00:00:00Z build/sylva examples/report_sample.lua "$WORK/report" >/dev/null

shot() { # file width height png
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$WORK/profile" --screenshot="$4" --window-size="$2,$3" "file://$1" >/dev/null 2>&1
}

for f in roc km beeswarm shap_bar dependence waterfall calibration decision cv_curve; do
    svg="$WORK/report/figures/$f.svg"
    w=$(sed -n 's/.*<svg[^>]* width="\([0-9.]*\)".*/\1/p' "$svg" | head -1)
    h=$(sed -n 's/.*<svg[^>]* height="\([0-9.]*\)".*/\1/p' "$svg" | head -1)
    shot "$svg" "${w%.*}" "${h%.*}" "$OUT/$f.png"
done
shot "$WORK/report/report.html" 1100 1500 "$OUT/report.png"
ls -l "$OUT"
