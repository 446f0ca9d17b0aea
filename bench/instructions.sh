#!/usr/bin/env bash
# Counts the user-space instructions one /details/0 request costs, under callgrind: repeatable for the same binary
# and inputs whatever else the machine is doing, so a better guard for regressions than req/s.
#   bench/instructions.sh [URL_PATH]     (default /details/0; builds details in release; needs valgrind, wrk, curl)
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
TARGET=${1:-/details/0}
ensure_packages valgrind wrk curl >/dev/null || true
for tool in valgrind callgrind_control wrk curl; do command -v $tool >/dev/null || fail "$tool is needed"; done
# DWARF 4 for the C shim: valgrind 3.19 (Debian 12) cannot read the DWARF 5 that clang writes by default.
swift build -c release -Xcc -gdwarf-4 --product details >/dev/null 2>&1 || fail "build failed"
BIN=$(swift build -c release --show-bin-path)/details
PORT=$(free_ports 1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HTTP_SERVER_EVENT_LOOPS=1 HTTP_SERVER_HOST=127.0.0.1 LOG_REQUESTS=true \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg" "$BIN" "$PORT" >/dev/null 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT$TARGET" && break; sleep 0.2; done
callgrind_control -z "$PID" >/dev/null 2>&1   # count from here: start-up and warm-up left out
REQUESTS=$(wrk -t1 -c1 -d4s "http://127.0.0.1:$PORT$TARGET" | awk '/requests in/ {print $1}')
callgrind_control -d "$PID" >/dev/null 2>&1
kill -TERM "$PID"; wait "$PID" 2>/dev/null
DUMP=$(ls "$WORK"/cg.* 2>/dev/null | head -1)
TOTAL=$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
[ -n "$TOTAL" ] && [ "${REQUESTS:-0}" -gt 0 ] || fail "no count (see $WORK/err)"
say "GET $TARGET: $REQUESTS requests, $((TOTAL / REQUESTS)) instructions each (user space, callgrind)"
