#!/bin/sh
# deps.sh - installs the Debian packages sylva needs to build, test and run
# its demo. As root it runs apt-get; otherwise it prints the exact command
# and stops. Extra packages for optional work (oracles, benchmarks) are
# passed as arguments: tools/deps.sh r-base-core ...
set -eu

PKGS="cmake make gcc pkg-config liblua5.4-dev lua5.4 lua-filesystem libcmocka-dev libreadline-dev libxml2-utils"
# locales: the locale sources test_csv compiles de_DE.UTF-8 from (LOCPATH)
# to check that number parsing ignores a decimal-comma locale; without
# them that test is skipped in a clean CI image.
PKGS="$PKGS locales"
# figure files (sv.plot.save to PDF/PNG/TIFF): librsvg draws the SVG with
# cairo; libtiff writes TIFF; zlib checksums the PNG resolution chunk; the
# Liberation and DejaVu fonts give the SVG's sans-serif text real metrics.
PKGS="$PKGS librsvg2-dev libcairo2-dev libtiff-dev zlib1g-dev fonts-liberation fonts-dejavu-core"
# Excel workbooks: sv.read_xlsx opens the zip container with minizip and
# parses the XML with expat; sv.write_xlsx writes with libxlsxwriter.
PKGS="$PKGS libminizip-dev libexpat1-dev libxlsxwriter-dev"
# luarocks: the rockspec (luarocks make) is tested by test_install.lua
PKGS="$PKGS luarocks git"
PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "sylva: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "Run as root (or with sudo):"
    echo "  apt-get update && apt-get install -y$missing"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
