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

# The modules the targets import and those they depend on, in build order, read from Package.swift (swift package
# describe): "swift NAME FILE…" (an executable without its @main file) or "c NAME INCLUDE FILE…".
plan=$(swift package describe --type json 2>/dev/null | python3 -c '
import json, os, re, sys
targets = {t["name"]: t for t in json.load(sys.stdin)["targets"]}
wanted = set()
for name in os.listdir("Fuzz/Targets"):
    wanted |= set(re.findall(r"^(?:@testable )?import (\w+)", open("Fuzz/Targets/" + name).read(), re.M))
order = []
def visit(name):
    if name in targets and name not in order:
        for dependency in targets[name].get("target_dependencies", []):
            visit(dependency)
        order.append(name)
for name in sorted(wanted):
    visit(name)
for name in order:
    target = targets[name]
    files = [os.path.join(target["path"], f) for f in target["sources"]]
    if all(f.endswith(".c") for f in files):
        print("c", name, os.path.join(target["path"], "include"), *files)
    else:
        print("swift", name, *[f for f in files if "@main" not in open(f).read()])
')
[ -n "$plan" ] || fail "swift package describe did not list the modules"
includes=() libraries=()
while read -r kind name rest; do
    [ "$kind" = c ] && includes+=(-I "${rest%% *}")
    libraries=("-l$name" "${libraries[@]}")
done <<<"$plan"

flags=(-O -wmo -parse-as-library -sanitize=fuzzer,address -enable-testing -I "$build" -L "$build" "${includes[@]}" -swift-version 6)
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
# A C module (a shim over system calls) as a static library.
c_module() {
    local name=$1 include=$2; shift 2
    local lib="$build/lib$name.a" objects=()
    if [ -f "$lib" ] && [ -z "$(find "$@" "$include" -newer "$lib" 2>/dev/null | head -1)" ]; then return 0; fi
    say "   building $name"
    for source in "$@"; do
        objects+=("$build/$name-$(basename "$source" .c).o")
        ${CC:-clang} -O2 -I "$include" -c "$source" -o "${objects[-1]}" || return 1
    done
    rm -f "$lib" && ar rcs "$lib" "${objects[@]}"
}

say "== building the fuzz targets in $build"
while read -r kind name rest; do
    if [ "$kind" = c ]; then
        read -r -a files <<<"$rest"
        c_module "$name" "${files[@]}" || fail "$name did not build for fuzzing"
    else
        # shellcheck disable=SC2086 # the file list is split on purpose
        module "$name" $rest || fail "$name did not build for fuzzing"
    fi
done <<<"$plan"
for t in $targets; do
    [ "$target" = all ] || [ "$target" = "$t" ] || continue
    binary="$build/fuzz-$t"
    if [ -x "$binary" ] && [ -z "$(find Fuzz/FuzzInput.swift "Fuzz/Targets/$t.swift" "$build"/*.a -newer "$binary" | head -1)" ]; then
        continue
    fi
    swiftc "${flags[@]}" "${libraries[@]}" -module-name "fuzz_${t//-/_}" \
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
