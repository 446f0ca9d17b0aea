#!/usr/bin/env bash
# Runs every test: unit and integration tests (swift test, against a real etcd), browser checks in headless
# Chromium, the smoke test against the locally started suite, and the deployment checks. Installs what it needs.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ARTIFACTS=${ARTIFACTS:-artifacts}
mkdir -p "$ARTIFACTS"
passed=0 failed=0 stages=()
stage() {
    local name=$1 status=$2 pass=${3:-0} fail=${4:-0}
    passed=$((passed + pass)); failed=$((failed + fail))
    stages+=("$(printf '%-28s %s (%s passed, %s failed)' "$name" "$status" "$pass" "$fail")")
}

command -v swift >/dev/null || fail "no Swift toolchain on PATH"
say "== installing what the tests need (when missing)"
ensure_packages etcd-server etcd-client curl || say "warning: could not install etcd; storage tests will fail in CI"
ensure_packages chromium || say "warning: could not install chromium; browser checks will be skipped"
command -v chromium >/dev/null && ensure_pip playwright

say "== swift build"
swift build --build-tests 2>&1 | tail -3
[ ${PIPESTATUS[0]} -eq 0 ] || fail "build failed"

say "== swift test (unit and integration)"
swift test 2>&1 | tee "$ARTIFACTS/swift-test.log" | grep -E '^(✘|✔ Test run|✘ Test run)|error:|Fatal' | grep -v '^✔ Test [a-z]' | tail -40
swift_status=${PIPESTATUS[0]}
line=$(grep -E '^. Test run with [0-9]+ test' "$ARTIFACTS/swift-test.log" | tail -1)
total=$(sed -nE 's/.*Test run with ([0-9]+) test.*/\1/p' <<<"$line")
issues=$(grep -cE '^✘ Test .*(failed|recorded an issue)' "$ARTIFACTS/swift-test.log" || true)
if [ "$swift_status" -eq 0 ]; then stage "swift test" PASS "${total:-0}" 0; else stage "swift test" FAIL "$(( ${total:-0} - issues ))" "${issues:-1}"; fi

say "== the local suite, browser and smoke checks"
SUITE_STATE=$(mktemp -d)
PRODUCTPAGE_PORT=19080 DETAILS_PORT=19081 RATINGS_PORT=19082 REVIEWS_V1_PORT=19083 REVIEWS_V2_PORT=19084 \
REVIEWS_V3_PORT=19085 STORAGE_PORT=19090 ETCD_CLIENT_PORT=12379 ETCD_PEER_PORT=12380 STATE_DIR=$SUITE_STATE \
    scripts/run-local.sh --debug --no-build >"$ARTIFACTS/run-local.log" 2>&1 &
SUITE_PID=$!
for _ in $(seq 150); do grep -q '^READY' "$ARTIFACTS/run-local.log" && break; kill -0 $SUITE_PID 2>/dev/null || break; sleep 0.2; done
if grep -q '^READY' "$ARTIFACTS/run-local.log"; then
    if command -v chromium >/dev/null && python3 -c "import playwright" 2>/dev/null; then
        python3 scripts/ui_test.py http://127.0.0.1:19080 http://127.0.0.1:19090 "$ARTIFACTS" | tee "$ARTIFACTS/ui.log"
        ui_status=${PIPESTATUS[0]}
        counts=$(sed -nE 's/^ui: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p' "$ARTIFACTS/ui.log")
        stage "browser (chromium)" "$([ "$ui_status" -eq 0 ] && echo PASS || echo FAIL)" ${counts:-0 1}
    else
        stage "browser (chromium)" SKIPPED 0 0
    fi
    GATEWAY_URL=127.0.0.1:19080 STORAGE_URL=127.0.0.1:19090 ETCD_URL=127.0.0.1:12379 scripts/smoke.sh | tee "$ARTIFACTS/smoke.log"
    smoke_status=${PIPESTATUS[0]}
    counts=$(sed -nE 's/^smoke: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p' "$ARTIFACTS/smoke.log")
    stage "smoke (local suite)" "$([ "$smoke_status" -eq 0 ] && echo PASS || echo FAIL)" ${counts:-0 1}
else
    cat "$ARTIFACTS/run-local.log"
    stage "local suite start" FAIL 0 1
fi
kill -TERM $SUITE_PID 2>/dev/null; wait $SUITE_PID 2>/dev/null
rm -rf "$SUITE_STATE"

if [ -x scripts/check-deploy.sh ]; then
    say "== deployment checks (images, manifests)"
    scripts/check-deploy.sh | tee "$ARTIFACTS/deploy.log"
    deploy_status=${PIPESTATUS[0]}
    counts=$(sed -nE 's/^deploy: ([0-9]+) passed, ([0-9]+) failed/\1 \2/p' "$ARTIFACTS/deploy.log")
    stage "deployment checks" "$([ "$deploy_status" -eq 0 ] && echo PASS || echo FAIL)" ${counts:-0 1}
fi

say ""
say "== summary (artefacts and screenshots in $ARTIFACTS/)"
printf '  %s\n' "${stages[@]}"
say "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
