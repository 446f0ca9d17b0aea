#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (with AddressSanitizer) and runs each over its seed corpus in
# Fuzz/Corpus. Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]; FUZZ_RUNS=N stops each after N executions instead.
# New inputs go to .build-fuzz/corpus (not the repository); crashes to $ARTIFACTS/fuzz, with how to replay them.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

target=${1:-all}
seconds=${2:-30}
runs=${FUZZ_RUNS:-}
ARTIFACTS=${ARTIFACTS:-artifacts}
build=.build-fuzz
mkdir -p "$build/corpus" "$ARTIFACTS/fuzz"
command -v swiftc >/dev/null || fail "no Swift toolchain on PATH"
targets=$(cd Fuzz/Targets && ls *.swift | sed 's/\.swift$//')
if [ "$target" != all ] && ! grep -qx "$target" <<<"$targets"; then
    fail "no fuzz target '$target'; the targets are: $(echo $targets)"
fi
[[ "$seconds" =~ ^[0-9]+$ ]] || fail "SECONDS must be a whole number, not '$seconds'"

flags=(-O -wmo -parse-as-library -sanitize=fuzzer,address -enable-testing -I "$build" -L "$build" -swift-version 6)
# A module as a static library, built again only when one of its sources is newer than it.
module() {
    local name=$1; shift
    local sources=("$@")
    local lib="$build/lib$name.a"
    if [ -f "$lib" ] && [ -z "$(find "${sources[@]}" -newer "$lib" 2>/dev/null | head -1)" ]; then return 0; fi
    say "   building $name"
    swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$build/$name.swiftmodule" \
        -emit-library -static -o "$lib" "${sources[@]}" 2>&1 | grep -E 'error' | head -20
    [ -f "$lib" ] && [ "${PIPESTATUS[0]}" -eq 0 ]
}
swift_files() { find "$1" -name '*.swift' ! -name "${2:-__none__}" | sort; }

say "== building the fuzz targets in $build"
module HTTPKit $(swift_files Sources/HTTPKit) || fail "HTTPKit did not build for fuzzing"
module MySQLKit $(swift_files Sources/MySQLKit) || fail "MySQLKit did not build for fuzzing"
module Bookinfo $(swift_files Sources/Bookinfo) || fail "Bookinfo did not build for fuzzing"
module ProductPage $(swift_files Sources/ProductPage ProductPageMain.swift) || fail "ProductPage did not build for fuzzing"
module StorageApp $(swift_files Sources/StorageApp StorageMain.swift) || fail "StorageApp did not build for fuzzing"
for t in $targets; do
    [ "$target" = all ] || [ "$target" = "$t" ] || continue
    binary="$build/fuzz-$t"
    if [ -x "$binary" ] && [ -z "$(find Fuzz/FuzzInput.swift "Fuzz/Targets/$t.swift" "$build"/*.a -newer "$binary" | head -1)" ]; then
        continue
    fi
    swiftc "${flags[@]}" -lProductPage -lStorageApp -lBookinfo -lMySQLKit -lHTTPKit -module-name "fuzz_${t//-/_}" \
        Fuzz/FuzzInput.swift "Fuzz/Targets/$t.swift" -o "$binary" 2>&1 | grep -E 'error' | head -20
    [ -x "$binary" ] || fail "fuzz target $t did not build"
done

say "== fuzzing ($([ -n "$runs" ] && echo "$runs executions" || echo "$seconds s") per target)"
failed=0
for t in $targets; do
    [ "$target" = all ] || [ "$target" = "$t" ] || continue
    mkdir -p "$build/corpus/$t" "Fuzz/Corpus/$t"
    log="$ARTIFACTS/fuzz/$t.log"
    limit=(-max_total_time="$seconds")
    [ -n "$runs" ] && limit=(-runs="$runs")
    SWIFT_BACKTRACE=enable=no "$build/fuzz-$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$ARTIFACTS/fuzz/$t-" "$build/corpus/$t" "Fuzz/Corpus/$t" >"$log" 2>&1
    status=$?
    executed=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
    stats=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*exec\/s: ([0-9]+).*/cov \1, ft \2, corpus \3, \4 exec\/s/p')
    if [ "$status" -eq 0 ]; then
        say "PASS fuzz $t: ${executed:-?} executions, ${stats:-no stats}"
    else
        failed=$((failed + 1))
        crash=$(sed -nE 's/.*Test unit written to (.*)/\1/p' "$log" | tail -1)
        say "FAIL fuzz $t: $(grep -m1 -E 'ERROR|Fatal error|property failed' "$log")"
        [ -n "$crash" ] && say "     input: $crash (replay: $build/fuzz-$t $crash)"
    fi
done
count=$(wc -w <<<"$([ "$target" = all ] && echo $targets || echo "$target")")
say "fuzz: $((count - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
