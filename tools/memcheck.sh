#!/bin/sh
# memcheck.sh BUILD - runs every C test executable and every Lua test of
# the ordinary build under valgrind memcheck (MEMCHECK_TESTS="errors atomic"
# limits it to tests whose names contain one of the words; valgrind is
# 20-50 times slower, so the whole suite takes a while). Any memory error or any
# definitely/indirectly lost block fails (exit 99). The sanitized build's
# LeakSanitizer (make test SANITIZE=1) covers the same ground; this is the
# second opinion without recompiling, and the fallback where LSan cannot run.
set -eu
build=$1
root=$(pwd)
vg="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --show-leak-kinds=definite,indirect"
mkdir -p "$build/tmp" "$build/memcheck"
failed=""
selected() {
    [ -z "${MEMCHECK_TESTS:-}" ] && return 0
    for w in $MEMCHECK_TESTS; do
        case "$1" in *"$w"*) return 0 ;; esac
    done
    return 1
}
for t in "$build"/test_*; do
    [ -x "$t" ] || continue
    name=${t##*/}
    selected "$name" || continue
    if SYLVA_ROOT="$root" $vg "$t" >"$build/memcheck/c_$name.log" 2>&1; then
        echo "memcheck $name: clean"
    else
        echo "memcheck $name: FAILED (see $build/memcheck/c_$name.log)"
        failed="$failed $name"
    fi
done
for t in tests/lua/test_*.lua; do
    name=$(basename "$t" .lua)
    selected "$name" || continue
    if LUA_PATH="$root/tests/lua/?.lua;;" SYLVA_ROOT="$root" SYLVA_BUILD="$root/$build" \
       SYLVA_BIN="$root/$build/sylva" SYLVA_MODULE="$root/$build/sylva.so" \
       SYLVA_TMP="$root/$build/tmp" SYLVA_MEMCHECK=1 \
       $vg "$build/sylva" "$t" >"$build/memcheck/lua_$name.log" 2>&1; then
        echo "memcheck lua $name: clean"
    else
        echo "memcheck lua $name: FAILED (see $build/memcheck/lua_$name.log)"
        failed="$failed $name"
    fi
done
if [ -n "$failed" ]; then
    echo "memcheck: failures in:$failed" >&2
    exit 1
fi
echo "memcheck: no memory errors, no leaks"
