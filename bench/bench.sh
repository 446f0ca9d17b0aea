#!/usr/bin/env bash
# Benchmarks with wrk on loopback, side by side with nginx (one worker, a constant reply) measured in the same run.
#   bench/bench.sh [http|bookinfo|ratings|storage|cluster|all]     DURATION=5s CONNECTIONS=50 SOAK_REQUESTS=1000000 ROUNDS=5
#                                                  STORAGE_ROUNDS=12 STORAGE_DURATION=2s
# Prints req/s, p50/p99 latency and memory; the ratios are what to compare between machines, not the absolutes.
# Each comparison with its reference (nginx, direct etcd) measures the two ROUNDS times, in turn, and reports the
# median ratio, so that a neighbour's burst on this shared machine does not decide it.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

WHAT=${1:-all}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-50}
SOAK_REQUESTS=${SOAK_REQUESTS:-1000000}
ROUNDS=${ROUNDS:-5}
# etcd's throughput here swings by a fifth from one second to the next, so its comparisons take more, shorter rounds.
STORAGE_ROUNDS=${STORAGE_ROUNDS:-12}
STORAGE_DURATION=${STORAGE_DURATION:-2s}
ensure_packages wrk nginx-light etcd-server mariadb-server curl >/dev/null || true
for tool in wrk nginx curl; do command -v $tool >/dev/null || fail "$tool is needed (apt-get install wrk nginx-light curl)"; done
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true

say "building release…"
swift build -c release >/dev/null 2>&1 || { swift build -c release; fail "build failed"; }
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
PIDS=()
cleanup() { [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v*1000 } else printf "%s", v }'; }

# measure URL [extra wrk args]: one wrk run; sets RPS, P50, P99 (ms) and ERRORS.
measure() {
    local url=$1; shift
    local out; out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" 2>&1)
    RPS=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
    P50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
    P99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
    ERRORS=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
}
# row NAME: prints RPS, P50, P99 and ERRORS as one row, the last column against NGINX_RPS when it is set.
row() {
    local ratio="-"
    [ "$NGINX_RPS" -gt 0 ] && ratio=$(awk -v a="$RPS" -v b="$NGINX_RPS" 'BEGIN {printf "%.2fx", a/b}')
    printf '%-34s %10s %9s %9s %8s  %s\n' "$1" "$RPS" "$P50" "$P99" "$ratio" "$ERRORS"
}
# run_wrk NAME URL [extra wrk args]: measures and prints one row; leaves RPS, P99 set.
NGINX_RPS=0
run_wrk() { local name=$1; shift; measure "$@"; row "$name"; }
header() { printf '\n%-34s %10s %9s %9s %8s\n' "$1" "req/s" "p50 ms" "p99 ms" "vs nginx"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare NAME URL REF_NAME REF_URL [--both] [wrk args]: measures the reference and the service in each of ROUNDS
# rounds, one row each (the service's ratio column against the reference of its round), then prints the median
# ratios. The wrk args are the reference's, or with --both the service's too.
compare() {
    local name=$1 url=$2 ref_name=$3 ref_url=$4; shift 4
    local service_args=()
    if [[ ${1:-} == --both ]]; then shift; service_args=("$@"); fi
    local rps_ratios=() p50_ratios=() p99s=() round ref_rps ref_p50
    local NGINX_RPS  # run_wrk's ratio column, for this function's rows only
    local ref service
    for round in $(seq 1 "$ROUNDS"); do
        # The reference goes first in odd rounds and last in even ones, so that a drift of the machine's speed
        # during a round favours neither side.
        if (( round % 2 == 0 )); then
            measure "$url" "${service_args[@]}"; service=("$RPS" "$P50" "$P99" "$ERRORS")
            measure "$ref_url" "$@"; ref=("$RPS" "$P50" "$P99" "$ERRORS")
        else
            measure "$ref_url" "$@"; ref=("$RPS" "$P50" "$P99" "$ERRORS")
            measure "$url" "${service_args[@]}"; service=("$RPS" "$P50" "$P99" "$ERRORS")
        fi
        RPS=${ref[0]} P50=${ref[1]} P99=${ref[2]} ERRORS=${ref[3]} NGINX_RPS=0
        row "$ref_name (round $round)"
        ref_rps=$RPS ref_p50=$P50
        RPS=${service[0]} P50=${service[1]} P99=${service[2]} ERRORS=${service[3]} NGINX_RPS=$ref_rps
        row "$name (round $round)"
        rps_ratios+=("$(awk -v a="$RPS" -v b="$ref_rps" 'BEGIN {printf "%.3f", a/b}')")
        p50_ratios+=("$(awk -v a="$P50" -v b="$ref_p50" 'BEGIN {printf "%.3f", a/b}')")
        p99s+=("$P99")
    done
    say "  $name vs $ref_name, median of $ROUNDS rounds: throughput $(printf '%s\n' "${rps_ratios[@]}" | median)x," \
        "p50 $(printf '%s\n' "${p50_ratios[@]}" | median)x, p99 $(printf '%s\n' "${p99s[@]}" | median) ms"
}

start_service() {
    local name=$1 port=$2; shift 2
    env LOG_REQUESTS=true HTTP_SERVER_HOST=127.0.0.1 "$@" "$BIN/$name" "$port" >"$WORK/$name-$port.log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
    wait_http "http://127.0.0.1:$port/ready" 20 || fail "$name did not start: $(cat "$WORK/$name-$port.log")"
}

start_nginx() {
    cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $WORK/nginx-error.log;
pid $WORK/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  server {
    listen 127.0.0.1:28080;
    location / { default_type application/json; return 200 '{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}'; }
  }
  # A bare keep-alive reverse proxy in front of the storage benchmark's etcd: what any hop in between costs here.
  upstream etcd { server 127.0.0.1:22379; keepalive 64; }
  server {
    listen 127.0.0.1:28085;
    location / { proxy_pass http://etcd; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
    nginx -c "$WORK/nginx.conf" &
    PIDS+=($!)
    NGINX_PID=$!
    wait_http http://127.0.0.1:28080/ 10 || fail "nginx did not start"
}

start_nginx
say "machine: $(nproc) cores; wrk -t1 -c$CONNECTIONS -d$DURATION; logs of every service are on (JSON per request)"
header "reference"
run_wrk "nginx constant (1 worker)" http://127.0.0.1:28080/
NGINX_RPS=$RPS

if [[ $WHAT == all || $WHAT == http || $WHAT == bookinfo ]]; then
    start_service details 28081; DETAILS_PID=$LAST_PID
    start_service ratings 28082; RATINGS_PID=$LAST_PID
    start_service reviews 28083 SERVICE_VERSION=v2 RATINGS_HOSTNAME=127.0.0.1 RATINGS_SERVICE_PORT=28082; REVIEWS_PID=$LAST_PID
    start_service productpage 28084 DETAILS_HOSTNAME=127.0.0.1 DETAILS_SERVICE_PORT=28081 REVIEWS_HOSTNAME=127.0.0.1 \
        REVIEWS_SERVICE_PORT=28083 RATINGS_HOSTNAME=127.0.0.1 RATINGS_SERVICE_PORT=28082; PAGE_PID=$LAST_PID
fi

if [[ $WHAT == all || $WHAT == http ]]; then
    header "HTTPKit (details service)"
    idle_rss=$(rss_mb $DETAILS_PID)
    compare "small JSON GET /details/0" http://127.0.0.1:28081/details/0 "nginx constant" http://127.0.0.1:28080/
    CONNECTIONS_SAVED=$CONNECTIONS
    CONNECTIONS=2000
    ( sleep 2; rss_mb $DETAILS_PID >"$WORK/rss2000" ) &
    SAMPLER=$!
    run_wrk "2000 keep-alive connections" http://127.0.0.1:28081/details/0
    wait $SAMPLER
    CONNECTIONS=$CONNECTIONS_SAVED
    say "  RSS idle before load: ${idle_rss} MB; with 2000 connections open: $(cat "$WORK/rss2000") MB; threads: $(ls /proc/$DETAILS_PID/task | wc -l)"
    if command -v python3 >/dev/null; then
        python3 bench/slow_clients.py 127.0.0.1 28081 200 8 >"$WORK/slow.out" 2>&1 &
        SLOW=$!
        sleep 2
        run_wrk "p99 beside 200 slow clients" http://127.0.0.1:28081/details/0
        wait $SLOW
        say "  $(cat "$WORK/slow.out") (the server times a head out after HTTP_SERVER_HEADER_TIMEOUT=10s)"
    fi
    fd_before=$(fds $DETAILS_PID); rss_before=$(rss_mb $DETAILS_PID)
    soak_seconds=$(( SOAK_REQUESTS / 40000 + 5 ))
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${soak_seconds}s" http://127.0.0.1:28081/details/0 2>&1)
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    sleep 1
    say "  soak: $total requests in ${soak_seconds}s; open fds $fd_before -> $(fds $DETAILS_PID); RSS $rss_before -> $(rss_mb $DETAILS_PID) MB"
fi

if [[ $WHAT == all || $WHAT == bookinfo ]]; then
    header "bookinfo"
    compare "GET /details/0" http://127.0.0.1:28081/details/0 "nginx constant" http://127.0.0.1:28080/
    run_wrk "GET /ratings/0" http://127.0.0.1:28082/ratings/0
    run_wrk "GET /reviews/0 (v2 -> ratings)" http://127.0.0.1:28083/reviews/0
    run_wrk "GET /productpage (all services)" http://127.0.0.1:28084/productpage
    say "  RSS after the runs: details $(rss_mb $DETAILS_PID) MB, ratings $(rss_mb $RATINGS_PID) MB, reviews $(rss_mb $REVIEWS_PID) MB, productpage $(rss_mb $PAGE_PID) MB"
fi

if [[ $WHAT == all || $WHAT == ratings ]]; then
    # ratings v2 reads MariaDB (started by the image's own script) on every request; v1 answers from memory.
    [ -x /usr/sbin/mariadbd ] || fail "MariaDB is needed for the ratings benchmark (apt-get install mariadb-server)"
    MYSQL_ROOT_PASSWORD=bench MYSQLDB_DATA_DIR="$WORK/mysql" MYSQLDB_RUN_DIR="$WORK/mysql-run" MYSQLDB_PORT=23306 \
        MYSQLDB_BIND_ADDRESS=127.0.0.1 docker/mysqldb/mysqldb.sh >"$WORK/mysql.log" 2>&1 &
    PIDS+=($!)
    MYSQL_PID=$!
    for _ in $(seq 150); do grep -q "ready for connections" "$WORK/mysql.log" && break; sleep 0.2; done
    start_service ratings 28087; RATINGS_V1_PID=$LAST_PID
    start_service ratings 28086 SERVICE_VERSION=v2 DB_TYPE=mysql MYSQL_DB_HOST=127.0.0.1 MYSQL_DB_PORT=23306 \
        MYSQL_DB_PASSWORD=bench; RATINGS_V2_PID=$LAST_PID
    pool=$(grep -o '"MYSQL_POOL_SIZE":"[0-9]*"' "$WORK/ratings-28086.log" | cut -d'"' -f4)
    header "ratings v2 (MariaDB, pool of ${pool:-?}) against v1 (in memory)"
    compare "v2: GET /ratings/0 (a query each)" http://127.0.0.1:28086/ratings/0 "v1: GET /ratings/0" http://127.0.0.1:28087/ratings/0
    cpu() { CONNECTIONS=$CONNECTIONS bench/cpu_per_request.sh "$1" "$2" 4 | awk '$1 == "busy:" {printf ", %s of %s cores busy", $2, $4; next} NR > 1 {sub(":", "", $1); printf " %s %s µs", $1, $2}'; }
    say "  CPU per request (user + kernel, wrk -t1 -c$CONNECTIONS -d4s): v2 with MariaDB:$(cpu "$RATINGS_V2_PID,$MYSQL_PID" http://127.0.0.1:28086/ratings/0)"
    say "  RSS: ratings v1 $(rss_mb $RATINGS_V1_PID) MB, v2 $(rss_mb $RATINGS_V2_PID) MB, MariaDB $(rss_mb $MYSQL_PID) MB"
fi

if [[ $WHAT == all || $WHAT == storage ]]; then
    command -v etcd >/dev/null || fail "etcd is needed for the storage benchmark (apt-get install etcd-server)"
    start_etcd "$WORK/etcd" 22379 22380 "$WORK/etcd.log" || fail "etcd did not start"
    PIDS+=("$ETCD_PID")
    start_service storage-app 28090 ETCD_ENDPOINTS=http://127.0.0.1:22379; STORAGE_PID=$LAST_PID
    curl -s -X PUT -H 'Content-Type: application/json' -d '{"key":"benchKey","value":"a value to read back"}' http://127.0.0.1:28090/storage >/dev/null
    # The environment reaches the services, so HTTP_SERVER_SCHEDULING=normal bench/bench.sh storage measures the other policy.
    policy=$(grep -o '"HTTP_SERVER_SCHEDULING":"[a-z]*"' "$WORK/storage-app-28090.log" | head -1 | cut -d'"' -f4)
    header "storage (etcd v3 on loopback; storage-app scheduling: ${policy:-?})"
    printf '%-34s %10s %9s %9s %8s\n' "(-d$STORAGE_DURATION; last column: vs direct etcd)" "" "" "" ""
    export ETCD_KEY_B64=$(printf '/benchKey' | base64 -w0)
    ROUNDS=$STORAGE_ROUNDS DURATION=$STORAGE_DURATION compare "app: GET /storage/benchKey" http://127.0.0.1:28090/storage/benchKey "etcd direct: POST /v3/kv/range" http://127.0.0.1:22379/v3/kv/range -s bench/range.lua
    say "  for scale, nginx proxy_pass (1 worker, keep-alive upstream) in front of the same etcd, no parsing or logs:"
    ROUNDS=$STORAGE_ROUNDS DURATION=$STORAGE_DURATION compare "nginx proxy: POST /v3/kv/range" http://127.0.0.1:28085/v3/kv/range "etcd direct: POST /v3/kv/range" http://127.0.0.1:22379/v3/kv/range --both -s bench/range.lua
    # Where the gap comes from: the three share two cores with wrk, so each microsecond a hop spends is taken from etcd.
    cpu() { CONNECTIONS=$CONNECTIONS bench/cpu_per_request.sh "$1" "$2" 4 "${@:3}" | awk '$1 == "busy:" {printf ", %s of %s cores busy", $2, $4; next} NR > 1 {sub(":", "", $1); printf " %s %s µs", $1, $2}'; }
    say "  CPU per request (user + kernel, wrk -t1 -c$CONNECTIONS -d4s each):"
    say "    through storage-app:$(cpu "$STORAGE_PID,$ETCD_PID" http://127.0.0.1:28090/storage/benchKey)"
    say "    through nginx:$(cpu "$(pgrep -P "$NGINX_PID" | head -1),$ETCD_PID" http://127.0.0.1:28085/v3/kv/range -s bench/range.lua)"
    say "    etcd direct:$(cpu "$ETCD_PID" http://127.0.0.1:22379/v3/kv/range -s bench/range.lua)"
    say "  storage-app RSS $(rss_mb $STORAGE_PID) MB"
fi

if [[ $WHAT == all || $WHAT == cluster ]]; then
    # Writes through the storage app to one etcd member and to a three-member cluster (every member named), in the
    # same rounds: what replication (a quorum of two fsyncs a write) costs on this machine.
    command -v etcd >/dev/null || fail "etcd is needed for the cluster benchmark (apt-get install etcd-server)"
    if [ -z "${STORAGE_PID:-}" ]; then
        start_etcd "$WORK/etcd" 22379 22380 "$WORK/etcd.log" || fail "etcd did not start"
        PIDS+=("$ETCD_PID")
        start_service storage-app 28090 ETCD_ENDPOINTS=http://127.0.0.1:22379
    fi
    cluster="m0=http://127.0.0.1:22480,m1=http://127.0.0.1:22482,m2=http://127.0.0.1:22484"
    for i in 0 1 2; do
        etcd --name "m$i" --data-dir "$WORK/cluster-m$i" --listen-client-urls "http://127.0.0.1:$((22479 + 2 * i))" \
            --advertise-client-urls "http://127.0.0.1:$((22479 + 2 * i))" --listen-peer-urls "http://127.0.0.1:$((22480 + 2 * i))" \
            --initial-advertise-peer-urls "http://127.0.0.1:$((22480 + 2 * i))" --initial-cluster "$cluster" \
            --logger=zap --log-outputs=stderr >"$WORK/cluster-m$i.log" 2>&1 &
        PIDS+=($!)
    done
    for i in 0 1 2; do wait_http "http://127.0.0.1:$((22479 + 2 * i))/health" 30 '"health":"true"' || fail "etcd member m$i did not start"; done
    start_service storage-app 28091 ETCD_ENDPOINTS=http://127.0.0.1:22479,http://127.0.0.1:22481,http://127.0.0.1:22483
    header "storage writes: three etcd members against one (PUT /storage through the app)"
    ROUNDS=$STORAGE_ROUNDS DURATION=$STORAGE_DURATION compare "app -> 3 members: PUT" http://127.0.0.1:28091/storage \
        "app -> 1 member: PUT" http://127.0.0.1:28090/storage --both -s bench/put.lua
fi
