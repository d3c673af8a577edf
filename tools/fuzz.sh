#!/bin/sh
# fuzz.sh BUILD SECONDS [NAME...] - runs each libFuzzer harness
# BUILD/fuzz_<name> for SECONDS from the seed corpus tests/fuzz/corpus/<name>/
# (plus a dictionary tests/fuzz/<name>.dict when present), one at a time and
# niced (the machine is shared). New inputs go to BUILD/corpus/<name>/,
# crashing inputs to BUILD/crashes/<name>/. Prints executions per harness,
# appends them to BUILD/fuzz-stats.tsv, and fails when any harness found a
# crash, a leak, a timeout or an out-of-memory.
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=100000".
set -eu
build=$1
secs=$2
shift 2
names="$*"
if [ -z "$names" ]; then
    for exe in "$build"/fuzz_*; do
        [ -x "$exe" ] || continue
        names="$names ${exe##*/fuzz_}"
    done
fi
if [ -z "$names" ]; then
    echo "fuzz: no harnesses built in $build" >&2
    exit 1
fi
failed=""
for name in $names; do
    exe="$build/fuzz_$name"
    seeds="tests/fuzz/corpus/$name"
    work="$build/corpus/$name"
    crashes="$build/crashes/$name"
    log="$build/logs/$name.log"
    mkdir -p "$work" "$crashes" "$build/logs"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    nice -n 19 "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$crashes/" $dict ${FUZZ_FLAGS:-} \
        "$work" "$seeds" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    ncrash=$(ls "$crashes" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" \
        "$((end - start))" "$execs" "$rc" "$ncrash" >>"$build/fuzz-stats.tsv"
    echo "fuzz_$name: $execs executions in $((end - start)) s, exit $rc, $ncrash crashing inputs in $crashes"
    if [ "$rc" -ne 0 ]; then
        failed="$failed $name"
        grep -A 30 -m 1 -E '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM|out-of-memory' "$log" || tail -40 "$log"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failures in:$failed (logs in $build/logs/)" >&2
    exit 1
fi
